import Basics
import Stamps
import State
import Subjects
import Foundation

/// Subject-set folders with many small subjects (two PNG frames and a light curve each), made
/// through the folder sink as `citsci batch` makes them, for push tests that need hundreds of
/// subjects without rendering hundreds of alerts.
package enum SyntheticSubjects {
    /// `sets` closed sets of `perSet` subjects under `root`, alert ids from `firstID`, bound for
    /// `project`/`workflow`; every third subject shares an object with the one before it.
    @discardableResult
    package static func make(root: String, sets: Int, perSet: Int, firstID: Int = 1_000_000, project: String = FakePanoptes.project,
                            workflow: String? = FakePanoptes.workflow, filter: String = "synthetic") throws -> [String] {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let store = try StateStore(path: root + "/.synthetic.sqlite")
        let sink = try FolderSink(root: root, state: store, options: .init(maxSetSize: perSet, maxSetAge: 1e9))
        let destination = SubjectDestination(project: project, workflow: workflow)
        var ids: [String] = []
        let start = Date(timeIntervalSince1970: 1_780_000_000)
        for i in 0..<(sets * perSet) {
            let id = String(firstID + i)
            let object = "obj-\(firstID + i - (i % 3 == 2 ? 1 : 0))"
            var pixels = [UInt8](repeating: 0, count: 16 * 16)
            for p in pixels.indices { pixels[p] = UInt8(truncatingIfNeeded: p &* 7 &+ i) }
            let png = try PNGCodec.encode(Frame(width: 16, height: 16, channels: 1, pixels: pixels))
            var png2 = png
            png2.append(contentsOf: Array(id.utf8))  // distinct bytes per frame, still a PNG signature
            let curve: JSONValue = ["data": [["seriesData": [["x": .number(60000 + Double(i)), "y": .number(Double(i))]],
                                              "seriesOptions": ["label": "r", "color": "#d73027"]]]]
            let draft = SubjectDraft(externalID: id, objectID: object,
                                     frames: [(name: "\(id)_1.png", bytes: png), (name: "\(id)_2.png", bytes: png2),
                                              (name: "\(id)_lightcurve.json", bytes: curve.encoded())],
                                     metadata: [(key: "band", value: "r"), (key: "#alert_id", value: id), (key: "#object_id", value: object),
                                                (key: "#filter", value: filter)])
            try sink.add(draft, filters: [filter], destination: destination, pattern: "{filter}-{n}", frameColumns: 3,
                         now: start.addingTimeInterval(Double(i)))
            ids.append(id)
        }
        try sink.closeDue(now: start.addingTimeInterval(Double(sets * perSet) + 1e10))
        return ids
    }
}
