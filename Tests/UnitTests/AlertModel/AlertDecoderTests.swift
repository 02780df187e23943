import Foundation
import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

/// Decoding of the real alerts in ../shared/data, checked against fastavro and across schema versions.
@Suite(needsSharedData) struct AlertDecoderTests {
    static let folders: [(String, Int, Survey)] = [
        ("ztf-alerts", 36, .ztf), ("ztf-fink-distributed", 375, .ztf), ("rubin-9.0", 67, .rubin),
        ("rubin-7.4", 67, .rubin), ("alerce-ztf-samples", 71, .ztf), ("ztf-avro-alert-history", 14, .ztf),
        ("lsst-alert-packet", 10, .rubin), ("pittgoogle-samples/ztf", 1, .ztf),
    ]

    @Test(arguments: folders)
    func everyRealAlertDecodes(folder: String, expected: Int, survey: Survey) throws {
        let decoder = AlertDecoder()
        var alerts: [Alert] = []
        for file in Paths.avroFiles(folder) {
            alerts += try decoder.decode(try Paths.bytes(file), source: file)
        }
        #expect(alerts.count == expected)
        for a in alerts {
            #expect(a.survey == survey)
            #expect(a.ra.isFinite && a.dec.isFinite && a.mjd > 50_000, "\(a.summary)")
            #expect(a.band != nil)
            if folder != "lsst-alert-packet" {  // the package's fake samples carry no cutouts
                #expect(a.cutouts.science?.data.isEmpty == false && a.cutouts.template?.data.isEmpty == false
                        && a.cutouts.difference?.data.isEmpty == false, "\(a.summary)")
            }
        }
    }

    @Test func multiRecordContainersGiveEveryAlert() throws {
        let decoder = AlertDecoder()
        let lsst = try decoder.decode(try Paths.bytes("fink-client-datatest/lsst_part-2-918301.avro"))
        #expect(lsst.count == 7)
        #expect(lsst.map(\.history.count).sorted() == [0, 0, 303, 319, 345, 376, 391])
        #expect(lsst.allSatisfy { $0.survey == .rubin && $0.band == "i" })
        let ztf = try decoder.decode(try Paths.bytes("fink-client-datatest/avro_multi_alerts.avro"))
        #expect(ztf.count == 11)
        #expect(Set(ztf.map(\.alertId)).count == 11)
    }

    /// One alert of an archive file kept alone (the window of recent alerts): a container of that
    /// record only, decoding equal to it, every alert at its own index; a one-alert message unchanged.
    @Test func anAlertOfAFileAloneDecodesEqual() throws {
        let decoder = AlertDecoder()
        let file = try Paths.bytes("fink-client-datatest/lsst_part-2-918301.avro")
        let all = try decoder.decode(file)
        for (i, alert) in all.enumerated() {
            let alone = try decoder.alone(file, index: i)
            #expect(alone.count < file.count / 3)
            let back = try decoder.decode(alone)
            #expect(back.count == 1)
            #expect(back.first?.alertId == alert.alertId && back.first?.history.count == alert.history.count
                    && back.first?.cutouts.science?.data == alert.cutouts.science?.data)
        }
        #expect(throws: AlertDecodingError.self) { try decoder.alone(file, index: 7) }
        let one = try Paths.bytes(Paths.avroFiles("ztf-alerts")[0])
        #expect(try decoder.alone(one, index: 0) == one)
    }

    /// An alert's scalars are read when it is decoded; its history, forced photometry and the record's
    /// arrays when first asked for, from the message's bytes, and then they equal a whole decode.
    @Test func theArraysAreReadWhenFirstAskedFor() throws {
        let lsst = try AlertDecoder().decode(try Paths.bytes("fink-client-datatest/lsst_part-2-918301.avro"))
        #expect(lsst.allSatisfy { !$0.isWhole }, "decoding read the arrays")
        #expect(lsst.allSatisfy { $0.ra.isFinite && !$0.scalars.isEmpty && $0.cutouts.difference != nil })
        #expect(lsst.allSatisfy { !$0.isWhole }, "the scalars and cutouts read the arrays")
        let counts = lsst.map(\.history.count)
        #expect(lsst.allSatisfy { $0.isWhole })
        #expect(counts.sorted() == [0, 0, 303, 319, 345, 376, 391])
        let copy = lsst[2]  // a copy shares what its original read
        #expect(copy.isWhole && copy.forcedPhotometry.count == lsst[2].forcedPhotometry.count)
    }

    /// The Swift reader and Avro C, each with the same resolution plan, read every real record alike
    /// (Avro C is kept as the reference the Swift reader is held to, and measured beside it).
    @Test(arguments: folders.map(\.0) + ["fink-client-datatest"])
    func theSwiftReaderReadsWhatAvroCReads(folder: String) throws {
        let decoder = AlertDecoder()
        var compared = 0
        for file in Paths.avroFiles(folder).prefix(40) {
            for raw in try decoder.rawRecords(try Paths.bytes(file), source: file) {
                let reader = ReaderSchemas.schema(for: raw.alert.survey)
                let avroC = try AvroCRecordReader(writer: raw.writer, plan: SchemaResolver.plan(writer: raw.writer, reader: .record(reader)))
                let reference = try raw.bytes.withUnsafeBytes { try avroC.read($0) }
                #expect(AvroValue.record(raw.alert.record).jsonText(includeBytes: true) == reference.jsonText(includeBytes: true), "\(file)")
                compared += 1
            }
        }
        #expect(compared > 0)
    }

    /// The same ZTF candid written with schemas 3.0, 3.1, 3.2 and 3.3 decodes to the same values.
    @Test func oneAlertWrittenWithFourSchemaVersionsGivesTheSameValues() throws {
        let files = ["ztf-avro-alert-history/472263571115115000_7102fe6.avro", "ztf-avro-alert-history/472263571115115000_2b4af54.avro",
                     "ztf-avro-alert-history/472263571115115000_a8ab71c.avro", "ztf-alerts/official/472263571115115000.avro"]
        let alerts = try files.map { try decodeOne(try Paths.bytes($0)) }
        #expect(alerts.map(\.schemaVersion) == ["3.0", "3.1", "3.2", "3.3"])
        let paths = try ["candidate.magpsf", "candidate.sigmapsf", "candidate.ra", "candidate.dec", "candidate.rb", "candidate.fid",
                         "candidate.jd", "prv_candidates.jd", "prv_candidates.magpsf", "objectId", "cutoutDifference.stampData"]
            .map { try FieldPath($0, in: ReaderSchemas.ztf) }
        for path in paths {
            let values = alerts.map { $0.value(at: path) }
            #expect(values.allSatisfy { $0 == values[0] }, "\(path) differs across versions")
            #expect(!values[0].isNull, "\(path) is null")
        }
        #expect(alerts.allSatisfy { $0.alertId == 472263571115115000 && $0.objectId == "ZTF17aaajnnn" && $0.history.count == 11 })
    }

    @Test func modelFieldsOfKnownAlerts() throws {
        let ztf = try decodeOne(try Paths.bytes("pittgoogle-samples/ztf/ztf_20250302_programid1_ZTF17aaarzyp_2982177112815010003.v4_02.avro"))
        #expect(ztf.alertId == 2982177112815010003)
        #expect(ztf.objectId == "ZTF17aaarzyp")
        #expect(ztf.band == "r")
        #expect(ztf.schemaVersion == "4.02")
        #expect(ztf.history.count == 14)
        #expect(ztf.forcedPhotometry.count == 14)
        #expect(abs(ztf.mjd - 60736.17712) < 1e-5)
        // Flux and magnitude agree (AB, nJy): 15.884 mag is about 1.6 mJy.
        let m = try #require(ztf.magnitude), f = try #require(ztf.flux)
        #expect(abs(Photometric.magnitude(fluxNJy: abs(f))! - m) < 1e-9)
        #expect(ztf.history.map(\.mjd) == ztf.history.map(\.mjd).sorted())

        let rubin = try decodeOne(try Paths.bytes("rubin-9.0/169298432598474793_169298432598474793.avro"))
        #expect(rubin.survey == .rubin)
        #expect(rubin.alertId == 169298432598474793)
        #expect(rubin.sourceId == 169298432598474793)
        #expect(rubin.band == "i")
        #expect(rubin.cutouts.science?.data.count == 34560)
        #expect(rubin.cutouts.science?.data.prefix(6) == Array("SIMPLE".utf8)[...])
        let old = try decodeOne(try Paths.bytes("rubin-7.4/58804293150441522_58804293150441522.avro"))
        #expect(old.alertId == 58804293150441522)
        #expect(old.objectId == "3677566298566426694")
        #expect(old.history.count == 2)
    }

    /// Every field fastavro sees in the writer's record has the same value in ours (fields that the
    /// reader schema does not hold, such as a broker's added columns, are the only ones left out).
    @Test(arguments: ["ztf-alerts/1095578115815010001.avro", "ztf-fink-distributed/part-00000-09de403b-932d-46a5-ba1a-81ce1ad5ec25-c000.avro",
                      "rubin-9.0/169298432598474793_169298432598474793.avro", "rubin-7.4/58804293150441522_58804293150441522.avro",
                      "fink-client-datatest/lsst_part-2-918301.avro", "ztf-avro-alert-history/396522680015020000_6637447.avro",
                      "pittgoogle-samples/ztf/ztf_20250302_programid1_ZTF17aaarzyp_2982177112815010003.v4_02.avro",
                      "lsst-alert-packet/schema/11/1/sample_data/fakeAlert.avro"])
    func everyFieldMatchesFastavro(file: String) throws {
        let lines = String(decoding: try runPython("fastavro_dump.py", [Paths.data(file)]), as: UTF8.self).split(separator: "\n")
        let alerts = try AlertDecoder().decode(try Paths.bytes(file))
        #expect(lines.count == alerts.count)
        var mismatches: [String] = []
        var compared = 0
        for (line, alert) in zip(lines, alerts) {
            let reference = try JSONSerialization.jsonObject(with: Data(line.utf8))
            compare(.record(alert.record), reference, "", &mismatches, &compared)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
        #expect(compared > 100)
    }

    /// Real Rubin records framed as the Rubin stream frames them (official schema, Confluent header)
    /// decode to exactly what the container decodes to.
    @Test(arguments: [("rubin-9.0", "9.0"), ("rubin-7.4", "7.4")])
    func confluentFramedRealRubinAlertsMatchTheContainerDecode(folder: String, version: String) throws {
        let files = Array(Paths.avroFiles(folder).prefix(10))
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-frame-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        _ = try runPython("frame_rubin.py", ["--schema-root", Paths.data("lsst-alert-packet/schema"), "--version", version,
                                             "--out", out.path] + files.map(Paths.data))
        let decoder = AlertDecoder(schemas: try SchemaFolder(path: Paths.data("lsst-alert-packet/schema")))
        for (i, file) in files.enumerated() {
            let framed = Array(try Data(contentsOf: out.appendingPathComponent("\(i).bin")))
            #expect(framed[0] == 0)
            let fromWire = try decodeOne(framed, schemas: try SchemaFolder(path: Paths.data("lsst-alert-packet/schema")))
            let fromFile = try decodeOne(try Paths.bytes(file))
            #expect(fromWire.record == fromFile.record, "\(file)")
            #expect(fromWire.schemaVersion == version)
            _ = try decoder.decode(framed)
        }
    }

    @Test func officialConfluentSamplesResolveAcrossVersions() throws {
        let decoder = AlertDecoder(schemas: try SchemaFolder(path: Paths.data("lsst-alert-packet/schema")))
        let files = try FileManager.default.contentsOfDirectory(atPath: Paths.data("pittgoogle-samples/lsst-confluent")).sorted()
        #expect(files.count == 7)
        for file in files {
            let alerts = try decoder.decode(try Paths.bytes("pittgoogle-samples/lsst-confluent/\(file)"), source: file)
            #expect(alerts.count == 1)
            #expect(alerts[0].alertId == 1231321321)
            #expect(alerts[0].band == "r")
            #expect(alerts[0].history.count == 2)
        }
    }

    private func compare(_ ours: AvroValue, _ ref: Any, _ path: String, _ out: inout [String], _ count: inout Int) {
        count += 1
        switch (ours, ref) {
        case (.null, is NSNull):
            return
        case (_, let dict as [String: Any]) where dict["$logical"] != nil:
            return  // fastavro turned a logical type into a Python object: nothing to compare
        case (.record(let r), let dict as [String: Any]):
            if let n = dict["$bytes"] as? Int, dict.count == 1 { out.append("\(path): record vs bytes(\(n))"); return }
            for (key, value) in dict {
                guard let i = r.schema.index(of: key) else { continue }  // outside the reader schema
                compare(r.values[i], value, path + "." + key, &out, &count)
            }
        case (.bytes(let b), let dict as [String: Any]):
            if dict["$bytes"] as? Int != b.count { out.append("\(path): \(b.count) bytes vs \(dict)") }
        case (.map(let m), let dict as [String: Any]):
            if Set(m.keys) != Set(dict.keys) { out.append("\(path): map keys differ") }
            for (k, v) in dict { if let o = m[k] { compare(o, v, path + "{\(k)}", &out, &count) } }
        case (.array(let items), let list as [Any]):
            guard items.count == list.count else { out.append("\(path): \(items.count) items vs \(list.count)"); return }
            for (i, (a, b)) in zip(items, list).enumerated() { compare(a, b, "\(path)[\(i)]", &out, &count) }
        case (.string(let s), let t as String):
            if s != t { out.append("\(path): \(s) vs \(t)") }
        case (.boolean(let b), let n as NSNumber):
            if b != n.boolValue { out.append("\(path): \(b) vs \(n)") }
        case (.long(let x), let n as NSNumber):
            if x != n.int64Value { out.append("\(path): \(x) vs \(n)") }
        case (.double(let d), let dict as [String: Any]):
            guard let hex = dict["$double"] as? String, let r = Double(hex.replacingOccurrences(of: "inf", with: "infinity")) else {
                out.append("\(path): \(d) vs \(dict)"); return
            }
            if !(d == r || (d.isNaN && r.isNaN)) { out.append("\(path): \(d) vs \(r)") }
        default:
            out.append("\(path): ours \(ours.jsonText().prefix(40)) vs fastavro \(String(describing: ref).prefix(40))")
        }
    }
}
