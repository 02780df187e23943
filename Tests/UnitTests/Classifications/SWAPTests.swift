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

@Suite struct SWAPTests {
    func c(_ id: Int64, _ user: String, _ subject: String, _ answer: String, gold: Bool = false) -> Classification {
        Classification(id: id, user: user, workflowID: "47", createdAt: Date(timeIntervalSince1970: Double(id)), goldStandard: gold,
                       subjectIDs: [subject], annotations: [.init(task: "T0", value: .string(answer))])
    }

    @Test func skillsFromGoldSubjectsWeighAnswersByBayesRule() throws {
        var a = Aggregator(rule: RetirementRule(classifications: nil), swap: SWAP(task: "T0", positive: "Real"))
        var id: Int64 = 0
        func add(_ user: String, _ subject: String, _ answer: String, gold: Bool = false) { id += 1; a.add(c(id, user, subject, answer, gold: gold)) }
        // Gold subjects: g1, g2 real; g3, g4 bogus. Ann is always right, Bob always wrong.
        for (s, truth) in [("g1", "Real"), ("g2", "Real"), ("g3", "Bogus"), ("g4", "Bogus")] {
            add("expert", s, truth, gold: true)
            add("ann", s, truth)
            add("bob", s, truth == "Real" ? "Bogus" : "Real")
        }
        let skills = a.skills
        #expect(skills["ann"] == .init(positivesSeen: 2, positivesRight: 2, negativesSeen: 2, negativesRight: 2))
        #expect(skills["bob"] == .init(positivesSeen: 2, positivesRight: 0, negativesSeen: 2, negativesRight: 0))
        #expect(skills["expert"] == nil, "the gold answer is the truth, not a volunteer's")
        // Ann (P = 0.75 both ways) says Real: 0.5 → 0.75. Bob (P = 0.25) says Bogus, which from him
        // points the other way: 0.75 → 0.75·0.75 / (0.75·0.75 + 0.25·0.25) = 0.9.
        add("ann", "x", "Real")
        add("bob", "x", "Bogus")
        let x = try #require(a.result(.init(workflowID: "47", subjectID: "x")))
        #expect(abs((x.posterior ?? 0) - 0.9) < 1e-12)
        #expect(x.tasks[0].counts == ["Real": 1, "Bogus": 1], "the plain counts stay unweighted")
        // An untrained volunteer (skill 0.5) moves nothing.
        add("cat", "y", "Real")
        #expect(a.result(.init(workflowID: "47", subjectID: "y"))?.posterior == 0.5)
        // Results agree with one subject at a time.
        #expect(a.results.first { $0.subjectID == "x" }?.posterior == x.posterior)
    }

    @Test(needsData) func learnsFromTheGoldStandardRowsOfARealExport() throws {
        var a = Aggregator(rule: RetirementRule(classifications: nil), swap: SWAP(task: "T2", positive: "Snow or Snow-Covered"))
        for c in try ClassificationExport.read(Paths.data("zooniverse-exports/michigan-sample.csv")) { a.add(c) }
        let skills = a.skills
        // 37 gold subjects carry 31 volunteer classifications: those volunteers are trained.
        #expect(!skills.isEmpty)
        #expect(skills.values.map { $0.positivesSeen + $0.negativesSeen }.reduce(0, +) == 31)
        let swap = try #require(a.swap)
        for s in skills.values {
            #expect(swap.pPositive(s) > 0 && swap.pPositive(s) < 1 && swap.pNegative(s) > 0 && swap.pNegative(s) < 1)
        }
        let results = a.results
        let moved = results.filter { $0.posterior != 0.5 }
        #expect(!moved.isEmpty && moved.count < results.count, "only subjects seen by trained volunteers move")
        #expect(results.allSatisfy { ($0.posterior ?? -1) > 0 && ($0.posterior ?? 2) < 1 })
    }
}
