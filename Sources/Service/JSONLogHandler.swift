import Avro
import Filters
import Foundation
import Logging

/// One JSON object per line on standard error (`log: {format: json}`), for log collectors:
/// `{"time", "level", "label", "message", <metadata>}`.
package struct JSONLogHandler: LogHandler {
    let label: String
    package var logLevel: Logger.Level = .info
    package var metadata: Logger.Metadata = [:]

    package init(label: String) { self.label = label }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        write(level: event.level, message: event.message, metadata: event.metadata, error: event.error)
    }

    package func write(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, error: (any Error)?) {
        var out = "{\"time\":"
        JSONText.appendString(ISO8601DateFormatter().string(from: Date()), to: &out)
        out += ",\"level\":"
        JSONText.appendString(level.rawValue, to: &out)
        out += ",\"label\":"
        JSONText.appendString(label, to: &out)
        out += ",\"message\":"
        JSONText.appendString(message.description, to: &out)
        var all = metadata.merging(extra ?? [:], uniquingKeysWith: { $1 })
        if let error { all["error"] = "\(error)" }
        for (k, v) in all.sorted(by: { $0.key < $1.key }) {
            out += ","
            JSONText.appendString(k, to: &out)
            out += ":"
            JSONText.appendString(v.description, to: &out)
        }
        out += "}\n"
        FileHandle.standardError.write(Data(out.utf8))
    }
}
