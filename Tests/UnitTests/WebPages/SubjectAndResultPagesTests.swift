import AlertModel
import Basics
import Filters
import Foundation
@testable import State
import Subjects
import Testing
import TestSupport
@testable import WebPages
import WebServer

/// The subjects and results pages over a sink the real batcher made from real ZTF alerts, pushed
/// (in the ledger) and classified: what a volunteer sees, what only the team sees, the verdicts;
/// every value from outside escaped, only the sink's own files served.
@Suite(needsSharedData) struct SubjectAndResultPagesTests {
    static let hostile = "<script>window.__pwned=1</script>"

    struct Fixture {
        let site: Site
        let state: StateStore
        let set: String
        let subjects: [String]
    }

    func fixture() throws -> Fixture {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-pages-\(UUID().uuidString)").path
        let state = try StateStore(path: ":memory:")
        let sink = try FolderSink(root: root, state: state)
        let batcher = SubjectBatcher(sink: sink, state: state)
        let filter = try FilterFile(text: """
            name: bright
            owner: "\(Self.hostile)"
            expression: snr > 0
            destination: {project: "1234", workflow: "5678"}
            """, path: "bright.yaml")
        let decoder = AlertDecoder()
        let alerts = try Paths.avroFiles("ztf-alerts").prefix(6).flatMap { try decoder.decode(try Paths.bytes($0)) }
        for a in alerts { _ = try batcher.add(a, matches: [filter]) }
        let set = try #require(try state.sink.sets(limit: 1).first?.set)
        // As a push would record it: the set made on Zooniverse, the subjects linked but one held.
        let rows = try Manifest.read(set.folder + "/" + Manifest.fileName)
        _ = try state.zooniverse.importManifest(project: "1234", workflow: "5678", folder: set.folder, setName: set.name,
            subjects: rows.map { r in
                .init(externalID: r.externalID, objectID: r.value("#object_id"), frames: r.frames.map { ($0, $0.hasSuffix(".png") ? "image/png" : "application/json") },
                      metadata: Dictionary(r.metadata.map { ($0.key, $0.value) }) { a, _ in a })
            }, closed: false)
        try state.zooniverse.markSetCreating(project: "1234", name: set.name, workflow: "5678")
        try state.zooniverse.markSetCreated(project: "1234", name: set.name, workflow: "5678", zooniverseID: "900", adopted: false)
        var ids: [String] = []
        for (i, r) in rows.enumerated() {
            if i == 0 {
                try state.zooniverse.setHolds(project: "1234", [(ZooniverseLedger.SubjectRef(externalID: r.externalID, workflow: "5678", setName: set.name, phase: .ready),
                                                             "project not approved: at most 100 subjects \(Self.hostile)")])
                continue
            }
            let zid = String(70_000 + i)
            try state.zooniverse.markCreating(project: "1234", workflow: "5678", externalID: r.externalID)
            try state.zooniverse.markCreated(project: "1234", workflow: "5678", externalID: r.externalID, zooniverseID: zid, uploadURLs: [])
            try state.zooniverse.markUploaded(project: "1234", workflow: "5678", externalID: r.externalID)
            ids.append(zid)
        }
        // Volunteers: subject 70001 by five (four say Real), 70002 by two.
        var classifications: [Classification] = []
        var n: Int64 = 1
        for (subject, answers) in [(ids[0], ["Real", "Real", "Bogus", "Real", "Real"]), (ids[1], ["Bogus", "Bogus"])] {
            for (k, a) in answers.enumerated() {
                classifications.append(Classification(id: n, user: "volunteer\(k)", workflowID: "5678", createdAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(n)),
                                                      subjectIDs: [subject], annotations: [.init(task: "T0", value: .string(a))]))
                n += 1
            }
        }
        try state.store(classifications, project: "1234")
        let filters = FilterSet(folder: root)
        let site = Site(filters: filters, state: state, schemas: nil, metrics: { "" }, deadLetterFolder: nil, token: nil,
                        zooniverse: ZooniverseLinks(project: "pi/transients"))
        return Fixture(site: site, state: state, set: set.name, subjects: ids)
    }

    func get(_ site: Site, _ path: String) async throws -> (Int, String, [UInt8]) {
        let r = try #require(await site.respond(HTTPServer.Request(method: "GET", path: path, headers: [:])))
        return (r.status, String(decoding: r.body, as: UTF8.self), r.body)
    }

    /// Every page writes a time one way: UTC to the second, whatever the machine's zone.
    @Test func timesAreUTCToTheSecond() {
        #expect(DeadLetterPages.date(Date(timeIntervalSince1970: 1_796_106_600.75)) == "2026-12-01 06:30:00 UTC")
        #expect(DeadLetterPages.date(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00 UTC")
        #expect(DeadLetterPages.date(Date(timeIntervalSince1970: 4_102_444_799)) == "2099-12-31 23:59:59 UTC")
    }

    @Test func theSetsListWithTheirStateOnZooniverse() async throws {
        let f = try fixture()
        let (status, page, _) = try await get(f.site, "/subjects")
        #expect(status == 200)
        #expect(page.contains(">\(f.set)</a>") && page.contains("https://www.zooniverse.org/lab/1234/subject-sets/900"))
        #expect(page.contains("linked 0") == false && page.contains("uploaded 5") && page.contains("held 1"))
        #expect(page.contains("held 1: project not approved") && !page.contains(Self.hostile) && page.contains("&lt;script&gt;"))
    }

    @Test func aSubjectAsAVolunteerSeesIt() async throws {
        let f = try fixture()
        let (status, page, _) = try await get(f.site, "/subjects/" + f.set)
        #expect(status == 200)
        #expect(!page.contains(Self.hostile))
        // Frames, the blink of its three frames, the light curve drawn, the hidden keys apart.
        let frame = try #require(page.range(of: #"/sink/[^"]+_1\.png"#, options: .regularExpression).map { String(page[$0]) })
        #expect(page.contains("class=\"blink b3\"") && page.contains("animation-delay:-1.5s"))
        #expect(page.contains("<svg class=\"lightcurve\"") && page.contains("stroke-linecap=\"round\"><title>"))
        #expect(page.contains("hidden metadata and provenance") && page.contains("<th>#filter</th><td>bright</td>"))
        #expect(page.contains("https://www.zooniverse.org/projects/pi/transients/talk/subjects/70001"))
        let (imageStatus, _, png) = try await get(f.site, frame)
        #expect(imageStatus == 200 && png.starts(with: [0x89, 0x50, 0x4e, 0x47]))
        // Only plain names of the set's own files.
        for bad in ["/sink/\(f.set)/..%2Fset.json", "/sink/\(f.set)/set.json.txt", "/sink/\(f.set)/.hidden.png", "/sink/nosuchset/a.png",
                    "/sink/\(f.set)/manifest.csv"] {
            #expect(try await get(f.site, bad).0 == 404, "\(bad)")
        }
        #expect(try await get(f.site, "/subjects/nosuchset").0 == 404)
    }

    @Test func theResultsNewestFirstWithConsensusAndStamps() async throws {
        let f = try fixture()
        let (status, page, _) = try await get(f.site, "/results")
        #expect(status == 200)
        #expect(page.contains("Subjects classified, the last classified first") && !page.contains("rel=\"next\""))
        let second = try #require(page.range(of: ">\(f.subjects[1])</a>")), first = try #require(page.range(of: ">\(f.subjects[0])</a>"))
        #expect(second.lowerBound < first.lowerBound, "the last classified first")
        #expect(page.contains("<strong>Real</strong> 80%") && page.contains("Real 4 · Bogus 1") && page.contains("<strong>Bogus</strong> 100%"))
        #expect(page.contains("class=\"stamp\" src=\"/sink/"))
        #expect(page.contains("talk/subjects/\(f.subjects[0])"))
    }

    @Test func theStreamPageSaysWhatIsHeldAndWhy() async throws {
        let f = try fixture()
        let (status, page, _) = try await get(f.site, "/")
        #expect(status == 200)
        #expect(page.contains("<td>1234</td><td>project not approved: at most 100 subjects &lt;script&gt;"))
    }
}
