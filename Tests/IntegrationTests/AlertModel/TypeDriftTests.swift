import AlertModel
import Avro
import Foundation
import Testing
import TestSupport

/// Real alerts re-written by fastavro under writer schemas derived from the official ones by each
/// kind of drift brokers cause (Tests/Fixtures/drift_alert.py): each decodes to the same alert as
/// the original, and a value that does not fit the reader's type is a clear error and a dead letter.
@Suite(needsSharedData) struct TypeDriftTests {
    static let ztf = "pittgoogle-samples/ztf/ztf_20250302_programid1_ZTF17aaarzyp_2982177112815010003.v4_02.avro"
    static let rubin = "fink-client-datatest/lsst_part-2-918301.avro"

    func drifted(_ kind: String, _ source: String) throws -> String {
        let out = NSTemporaryDirectory() + "drift-\(kind)-\(UUID().uuidString).avro"
        _ = try runPython("drift_alert.py", [kind, Paths.data(source), out])
        return out
    }

    static let cases: [(String, String)] = [("long", ztf), ("double", ztf), ("spark", ztf), ("rename", ztf),
                                            ("long", rubin), ("double", rubin), ("spark", rubin)]

    @Test(arguments: cases)
    func aDriftedWriterDecodesToTheSameAlerts(kind: String, source: String) throws {
        let path = try drifted(kind, source)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let original = try AlertDecoder().decode(try Paths.bytes(source))
        let again = try AlertDecoder().decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(again.count == original.count && !again.isEmpty)
        for (a, b) in zip(original, again) {
            #expect(a.alertId == b.alertId)
            #expect(a.record == b.record, "\(kind) drift changed alert \(a.alertId)")
        }
    }

    @Test func aValueThatDoesNotFitTheReaderIsAnErrorNamingTheField() throws {
        let path = try drifted("overflow", Self.ztf)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect {
            try AlertDecoder().decode(bytes)
        } throws: { error in
            guard let e = error as? AlertDecodingError else { return false }
            return e.kind == .schemaResolution && e.reason.contains("candidate.fid") && e.reason.contains("1099511627776")
                && e.reason.contains("does not fit the reader's int")
        }
        // The service keeps the message, with that reason, in its dead letters.
        let dir = NSTemporaryDirectory() + "drift-dead-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["batch", "--filters", Paths.packageRoot.appendingPathComponent("examples/filters").path,
                             "--sink", dir + "/sink", "--state", dir + "/citsci.sqlite", "--dead-letter-dir", dir + "/dead", path])
        let reasons = try FileManager.default.contentsOfDirectory(atPath: dir + "/dead").filter { $0.hasSuffix(".json") }
            .map { try String(contentsOfFile: dir + "/dead/" + $0, encoding: .utf8) }
        #expect(reasons.count == 1 && reasons[0].contains("candidate.fid"), "\(reasons) \(r.stderr)")
    }
}
