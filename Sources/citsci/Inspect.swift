import Basics
import Avro
import AlertModel
import Service
import ArgumentParser
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode alert packets and print one line per alert.",
        discussion: """
        FILE is an Avro container file (ZTF, broker archives) or a Confluent-framed message (Rubin: byte 0,
        big-endian schema id, Avro binary), whose writer schema comes from --schema-registry or --schema-dir.
        A folder is read recursively for *.avro files. Exit status 1 if any file could not be decoded.
        """)

    @OptionGroup var schemaOptions: SchemaOptions

    @Flag(help: "Print each whole decoded alert as JSON (one object per line; cutouts as their sizes).")
    var json = false

    @Flag(help: "Print the writer schema of each file instead of its alerts.")
    var schema = false

    @Argument(help: "Alert files or folders.")
    var files: [String]

    func run() throws {
        let decoder = AlertDecoder(schemas: try schemaOptions.source())
        var failures = 0
        for path in try AlertFiles.expand(files) {
            let bytes: [UInt8]
            do {
                bytes = try AlertFiles.read(path)
            } catch {
                printError("\(path): \(error)")
                failures += 1
                continue
            }
            do {
                if schema {
                    print(try decoder.writerSchema(of: bytes, source: path).jsonText)
                    continue
                }
                for alert in try decoder.decode(bytes, source: path) {
                    if json {
                        print(AlertJSON.line(alert))
                    } else {
                        print(alert.summary)
                    }
                }
            } catch {
                printError("citsci: \(error)")
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

/// A message on standard error, without secrets (it may quote a server's answer).
func printError(_ message: String) {
    FileHandle.standardError.write(Data((Redaction.current.apply(message) + "\n").utf8))
}

enum AlertFiles {
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path): no such file or folder" }
    }

    /// Files as given, and the *.avro files (sorted) inside any folder given.
    static func expand(_ paths: [String]) throws -> [String] {
        var out: [String] = []
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw Missing(path: path) }
            if isDir.boolValue {
                out += FolderIngestService.avroFiles(path)
            } else {
                out.append(path)
            }
        }
        return out
    }

    package static func read(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// `inspect --json`: the model's fields, then the whole packet in the reader schema's layout.
enum AlertJSON {
    static func line(_ a: Alert) -> String {
        func num(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : "null" } ?? "null" }
        func str(_ s: String?) -> String { s.map { "\"\($0)\"" } ?? "null" }
        let model = "{\"survey\":\"\(a.survey.rawValue)\",\"alertId\":\(a.alertId),\"sourceId\":\(a.sourceId.map(String.init) ?? "null"),"
            + "\"objectId\":\(str(a.objectId)),\"mjd\":\(num(a.mjd)),\"ra\":\(num(a.ra)),\"dec\":\(num(a.dec)),\"band\":\(str(a.band)),"
            + "\"flux\":\(num(a.flux)),\"fluxError\":\(num(a.fluxError)),\"magnitude\":\(num(a.magnitude)),"
            + "\"magnitudeError\":\(num(a.magnitudeError)),\"snr\":\(num(a.snr)),\"reliability\":\(num(a.reliability)),"
            + "\"schemaVersion\":\(str(a.schemaVersion)),\"history\":\(a.history.count),\"forcedPhotometry\":\(a.forcedPhotometry.count)}"
        return "{\"alert\":\(model),\"packet\":\(AvroValue.record(a.record).jsonText())}"
    }
}
