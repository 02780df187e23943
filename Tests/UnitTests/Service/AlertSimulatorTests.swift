import Foundation
import Testing
@testable import AlertModel
@testable import Service
import TestSupport

/// Simulated alerts: the light ones the quick start uses, and the `lsstcam` ones benchmarks use,
/// which must be as heavy as real LSSTCam packets and readable by the tools brokers use.
@Suite struct AlertSimulatorTests {
    @Test func lsstcamAlertsAreAsHeavyAsRealOnesInThe10Layout() throws {
        let simulator = AlertSimulator(seed: 11, profile: .lsstcam)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-lsstcam-\(UUID().uuidString).avro")
        defer { try? FileManager.default.removeItem(at: file) }
        let records = try (0..<6).map { try simulator.record($0) }
        try Data(simulator.container(records)).write(to: file)
        // ~200-330 kB each: 88-pixel stamps, hundreds of sources with every 10.0 field.
        #expect(records.allSatisfy { (180_000...360_000).contains($0.count) }, "\(records.map(\.count))")
        let alerts = try AlertDecoder().decode(Array(try Data(contentsOf: file)))
        #expect(alerts.count == 6)
        for a in alerts {
            let detections = a.history.filter(\.isDetection).count
            #expect((300...402).contains(detections), "\(detections) previous detections")
            #expect((340...780).contains(a.forcedPhotometry.count))
            #expect(a.cutouts.science.map { (34_000...40_000).contains($0.data.count) } == true)
            #expect(a.record["diaSource"].recordValue?.values.filter { !$0.isNull }.count ?? 0 > 70)
        }
        // The writer is the 10.0 layout, not the reader schema with every version's fields.
        guard case .record(let writer) = simulator.writerSchema, case .record(let source)? = writer.fields.first(where: { $0.name == "diaSource" })?.type.nonNull else {
            Issue.record("no diaSource record in the writer schema"); return
        }
        #expect(source.fields.count == 98)
        // fastavro, as brokers and scientists read alerts, reads them the same.
        let lines = String(decoding: try runPython("fastavro_dump.py", [file.path]), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 6)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect((first?["prvDiaSources"] as? [Any])?.count == alerts[0].history.filter(\.isDetection).count)
        #expect((first?["prvDiaForcedSources"] as? [Any])?.count == alerts[0].forcedPhotometry.count)
    }

    @Test func theSameSeedGivesTheSameAlerts() throws {
        let a = AlertSimulator(seed: 3, profile: .lsstcam), b = AlertSimulator(seed: 3, profile: .lsstcam)
        #expect(try a.record(4) == b.record(4))
        #expect(try AlertSimulator(seed: 4, profile: .lsstcam).record(4) != a.record(4))
    }
}
