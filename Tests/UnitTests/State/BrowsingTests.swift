import Foundation
import Testing
@testable import State

/// What the pages read: the last classified subjects, page by page, as a brute-force walk of every
/// classification gives them (classifications of several subjects across batch edges included).
@Suite struct BrowsingTests {
    @Test func theLastClassifiedSubjectsPageByPage() throws {
        let store = try StateStore(path: ":memory:")
        var rng = SystemRandomNumberGenerator()
        var all: [Classification] = []
        for id in 1...1500 {
            // Some classify several subjects at once (a group of subjects in one task).
            let subjects = (0..<(id % 7 == 0 ? 3 : 1)).map { _ in "s\(Int.random(in: 0..<400, using: &rng))" }
            all.append(Classification(id: Int64(id), user: "v\(id % 40)", workflowID: id % 5 == 0 ? "w2" : "w1",
                                      createdAt: Date(timeIntervalSince1970: Double(id)), subjectIDs: Array(Set(subjects)).sorted(),
                                      annotations: []))
        }
        try store.store(all.shuffled())
        var expected: [SubjectKey] = [], seen = Set<SubjectKey>()
        for c in all.reversed() {
            for s in c.subjectIDs.sorted(by: >) {
                let key = SubjectKey(workflowID: c.workflowID, subjectID: s)
                if seen.insert(key).inserted { expected.append(key) }
            }
        }
        var pages: [SubjectKey] = []
        for page in 0..<100 {
            let got = try store.lastClassifiedSubjects(limit: 50, offset: page * 50)
            pages += got
            if got.count < 50 { break }
        }
        // Within one classification the order of its subjects is the store's; compare as sets per classification.
        #expect(pages.count == expected.count && Set(pages) == Set(expected))
        let rank = Dictionary(uniqueKeysWithValues: expected.enumerated().map { ($1, $0) })
        let lastIDs = pages.map { key in all.last { $0.workflowID == key.workflowID && $0.subjectIDs.contains(key.subjectID) }!.id }
        #expect(lastIDs == lastIDs.sorted(by: >), "newest classification first")
        #expect(rank.count == expected.count)
    }
}
