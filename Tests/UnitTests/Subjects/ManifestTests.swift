import Foundation
import Testing
import TestSupport
@testable import Basics
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

@Suite struct ManifestTests {
    func folder(frames: [String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-manifest-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in frames { try Data([0x89, 0x50]).write(to: URL(fileURLWithPath: dir + "/" + f)) }
        return dir
    }

    let keys = ["band", "magnitude", "#alert_id", "#objectId", "#diaObjectId", "#filter"]

    @Test func writesZooniverseAndRubinColumnsAndReadsBack() throws {
        let dir = try folder(frames: ["1_1.png", "1_2.png", "1_3.png", "2_1.png"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let header = Manifest.header(frameColumns: 3, metadataKeys: keys)
        #expect(header.prefix(7) == ["external_id", "filename", "objectId", "diaObjectId", "location:1", "location:2", "location:3"])
        #expect(header.last == "metadata:#filter")
        let tricky = "a,b \"quoted\"\nnext line ± é"
        let rows = [
            ManifestRow(externalID: "1", frames: ["1_1.png", "1_2.png", "1_3.png"],
                        metadata: [("band", "r"), ("magnitude", tricky), ("#alert_id", "1"), ("#objectId", "ZTF20aaa")]),
            ManifestRow(externalID: "2", frames: ["2_1.png"], metadata: [("#alert_id", "2"), ("#diaObjectId", "170"), ("#filter", "a;b")]),
        ]
        let text = Manifest.text(header: header, rows: rows)
        try text.write(toFile: dir + "/manifest.csv", atomically: true, encoding: .utf8)
        let back = try Manifest.read(dir + "/manifest.csv")
        #expect(back == rows)
        // The Rubin notebooks' columns: the first frame as filename, and the survey's object id.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[1].hasPrefix("1,1_1.png,ZTF20aaa,,1_1.png,1_2.png,1_3.png,r,"))
        #expect(text.contains("2,2_1.png,,170,2_1.png,,,"))
    }

    @Test func everyRowsFramesMustResolveExactly() throws {
        let dir = try folder(frames: ["1_1.png", "2_1.png", "3_1.PNG"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let header = Manifest.header(frameColumns: 2, metadataKeys: keys)
        var text = header.joined(separator: ",") + "\n"
        text += Manifest.line(ManifestRow(externalID: "1", frames: ["1_1.png"], metadata: []), header: header)
        // Not only the first row is checked, and names match exactly (3_1.PNG is not 3_1.png).
        text += Manifest.line(ManifestRow(externalID: "3", frames: ["3_1.png"], metadata: []), header: header)
        try text.write(toFile: dir + "/manifest.csv", atomically: true, encoding: .utf8)
        #expect {
            try Manifest.read(dir + "/manifest.csv")
        } throws: { error in
            "\(error)" == "\(dir)/manifest.csv:3: frame '3_1.png' (location:1) is not a file in \(dir)"
        }
        // A second frame that is missing is found too.
        text = header.joined(separator: ",") + "\n" + Manifest.line(ManifestRow(externalID: "2", frames: ["2_1.png", "2_2.png"], metadata: []), header: header)
        try text.write(toFile: dir + "/manifest.csv", atomically: true, encoding: .utf8)
        #expect(throws: CSVFileError.self) { try Manifest.read(dir + "/manifest.csv") }
    }

    @Test func tornLastLineIsSkippedRepeatsKeepTheFirstAndBadShapesAreErrors() throws {
        let dir = try folder(frames: ["1_1.png", "2_1.png"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let header = Manifest.header(frameColumns: 1, metadataKeys: keys)
        let one = Manifest.line(ManifestRow(externalID: "1", frames: ["1_1.png"], metadata: [("band", "g")]), header: header)
        let again = Manifest.line(ManifestRow(externalID: "1", frames: ["1_1.png"], metadata: [("band", "i")]), header: header)
        let two = Manifest.line(ManifestRow(externalID: "2", frames: ["2_1.png"], metadata: []), header: header)
        let path = dir + "/manifest.csv"
        try (header.joined(separator: ",") + "\n" + one + again + String(two.dropLast(5))).write(toFile: path, atomically: true, encoding: .utf8)
        let rows = try Manifest.read(path)
        #expect(rows.map(\.externalID) == ["1"])
        #expect(rows[0].value("band") == "g")

        try (header.joined(separator: ",") + "\n1,1_1.png\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try Manifest.read(path) } throws: { "\($0)".hasSuffix("manifest.csv:2: 2 cells, the header has \(header.count)") }
        try (header.joined(separator: ",") + "\n\"1,1_1.png\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try Manifest.read(path) } throws: { "\($0)".contains("a quoted cell is not closed") }
        try "filename,location:1\nx,1_1.png\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try Manifest.read(path) } throws: { "\($0)".hasSuffix("manifest.csv:1: no external_id column") }
    }
}
