import Basics
import Filters
import Logging

/// Passes every log line through the redaction step before the handler that writes it: messages
/// and metadata may quote a server's answer, a library's log or an error that does.
package struct RedactingLogHandler: LogHandler {
    package var inner: any LogHandler
    let redaction: Redaction

    package init(_ inner: any LogHandler, redaction: Redaction = .current) {
        self.inner = inner
        self.redaction = redaction
    }

    package var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    package var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    package func log(event: LogEvent) {
        var clean = event
        clean.message = "\(redaction.apply(event.message.description))"
        clean.metadata = event.metadata?.mapValues { .string(redaction.apply($0.description)) }
        if let error = event.error {
            clean.error = nil
            clean.metadata = (clean.metadata ?? [:]).merging(["error": .string(redaction.apply("\(error)"))]) { $1 }
        }
        inner.log(event: clean)
    }
}
