import Basics
import Avro
import AlertModel
import Kafka
import Stamps
import Filters
import State
import Subjects
import Zooniverse
import Classifications
import Service
import WebClient
import WebServer
import Logging

/// Passes every log line through the redaction step before the handler that writes it: messages
/// and metadata may quote a server's answer, a library's log or an error that does.
struct RedactingLogHandler: LogHandler {
    var inner: any LogHandler
    let redaction: Redaction

    init(_ inner: any LogHandler, redaction: Redaction = .current) {
        self.inner = inner
        self.redaction = redaction
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
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
