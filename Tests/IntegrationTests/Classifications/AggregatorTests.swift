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

@Suite struct AggregatorTests {
    static let exports = ["example_classifications", "fossil-finder-classifications_test", "michigan-sample", "kenya-sample", "slsn-cls_export"]

    /// The same counts, votes, agreement and consensus as panoptes_aggregation on real exports.
    @Test(needsData, arguments: exports)
    func matchesPanoptesAggregationOnQuestionTasks(_ name: String) throws {
        #expect(PythonTools.hasAggregation, "panoptes_aggregation's venv is missing: run scripts/bootstrap")
        let path = Paths.data("zooniverse-exports/\(name).csv")
        let out = try runCommand(PythonTools.aggregation, [Paths.fixtures.appendingPathComponent("aggregate_reference.py").path, path])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let reference = try #require(doc["results"] as? [String: [String: Any]])
        let slugs = try #require(doc["slugs"] as? [String: String])

        var aggregator = Aggregator(rule: RetirementRule(classifications: nil))
        for c in try ClassificationExport.read(path) { aggregator.add(c) }
        var compared = 0
        var mismatches: [String] = []
        for result in aggregator.results {
            for task in result.tasks where task.kind == .question || task.kind == .multiple {
                let key = "\(result.workflowID)/\(result.subjectID)/\(task.task)"
                guard let ref = reference[key] else {
                    if !task.counts.isEmpty { mismatches.append("\(key): citsci has \(task.counts), panoptes_aggregation nothing") }
                    continue
                }
                compared += 1
                var ours: [String: Int] = [:]
                for (label, n) in task.counts { ours[slugs[label] ?? label, default: 0] += n }
                let theirs = ref["counts"] as? [String: Int] ?? [:]
                if ours != theirs { mismatches.append("\(key): counts \(ours) vs \(theirs)") }
                if task.numVotes != ref["num_votes"] as? Int { mismatches.append("\(key): num_votes \(task.numVotes) vs \(ref["num_votes"] ?? "nil")") }
                if let a = ref["agreement"] as? Double, abs((task.agreement ?? -1) - a) > 1e-12 {
                    mismatches.append("\(key): agreement \(task.agreement ?? -1) vs \(a)")
                }
                if ref["max_tied"] as? Bool == false, slugs[task.mostLikely ?? ""] != ref["most_likely"] as? String {
                    mismatches.append("\(key): most_likely \(task.mostLikely ?? "nil") vs \(ref["most_likely"] ?? "nil")")
                }
            }
        }
        #expect(compared == reference.count, "every reference result compared")
        #expect(compared > 0)
        let n = mismatches.count
        #expect(n == 0, "\(name): \(mismatches.prefix(8))")
    }

    /// Survey tasks: each choice counted once per volunteer (their last classification, the task's
    /// first annotation in it), as panoptes_aggregation's survey extractor and reducer count it with
    /// identical rows dropped; the one difference, a volunteer marking a choice twice with different
    /// sub-answers (two rows there), is told apart. Fractions never above 1.
    @Test(needsData, arguments: ["example_classifications", "michigan-sample", "kenya-sample"])
    func matchesPanoptesAggregationOnSurveyTasks(_ name: String) throws {
        #expect(PythonTools.hasAggregation, "panoptes_aggregation's venv is missing: run scripts/bootstrap")
        let path = Paths.data("zooniverse-exports/\(name).csv")
        let out = try runCommand(PythonTools.aggregation, [Paths.fixtures.appendingPathComponent("aggregate_reference.py").path, path])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let reference = try #require(doc["survey"] as? [String: [String: Any]])
        let slugs = try #require(doc["choice_slugs"] as? [String: String])
        var aggregator = Aggregator(rule: RetirementRule(classifications: nil))
        for c in try ClassificationExport.read(path) { aggregator.add(c) }
        var compared = 0, repeats = 0
        var mismatches: [String] = []
        for result in aggregator.results {
            for task in result.tasks where task.kind == .survey {
                let key = "\(result.workflowID)/\(result.subjectID)/\(task.task)"
                guard let ref = reference[key], let choices = ref["choices"] as? [String: [String: Any]] else {
                    mismatches.append("\(key): citsci has \(task.counts), panoptes_aggregation nothing")
                    continue
                }
                compared += 1
                var ours: [String: Int] = [:]
                for (label, n) in task.counts { ours[slugs[label] ?? label, default: 0] += n }
                let volunteers = choices.mapValues { $0["volunteers"] as? Int ?? -1 }
                if ours != volunteers { mismatches.append("\(key): counts \(ours) vs volunteers \(volunteers)") }
                for (choice, c) in choices where c["choice_count"] as? Int != c["volunteers"] as? Int {
                    if c["repeat_with_other_answers"] as? Bool == true { repeats += 1 } else {
                        mismatches.append("\(key): \(choice): panoptes_aggregation counts \(c["choice_count"] ?? "?") rows for \(c["volunteers"] ?? "?") volunteers")
                    }
                }
                if task.volunteers != ref["volunteers"] as? Int { mismatches.append("\(key): volunteers \(task.volunteers) vs \(ref["volunteers"] ?? "?")") }
                if task.fractions.values.contains(where: { $0 > 1 }) { mismatches.append("\(key): fractions \(task.fractions)") }
            }
        }
        #expect(compared > 0 && compared == reference.filter { !(($0.value["choices"] as? [String: Any]) ?? [:]).isEmpty }.count,
                "\(compared) compared of \(reference.count)")
        #expect(mismatches.isEmpty, "\(name): \(mismatches.prefix(8))")
        if name == "kenya-sample" { #expect(repeats == 2, "the two choices marked twice with other answers in kenya-sample") }
    }

    @Test func aSurveyChoiceMarkedTwiceOrATaskHeldTwiceCountsOnce() throws {
        var a = Aggregator(rule: RetirementRule(classifications: nil))
        let zebra: JSONValue = ["choice": "ZEBRA", "answers": ["HOWMANY": "1"], "filters": [:]]
        let twice: JSONValue = [zebra, zebra]
        a.add(Classification(id: 1, user: "ann", workflowID: "47", createdAt: Date(timeIntervalSince1970: 1), subjectIDs: ["1"],
                             annotations: [.init(task: "T3", value: twice), .init(task: "T3", value: [["choice": "LION", "answers": [:], "filters": [:]]])],
                             subjectMetadata: [:]))
        a.add(Classification(id: 2, user: "bob", workflowID: "47", createdAt: Date(timeIntervalSince1970: 2), subjectIDs: ["1"],
                             annotations: [.init(task: "T3", value: [zebra])], subjectMetadata: [:]))
        let t = try #require(a.results.first?.tasks.first)
        #expect(t.kind == .survey && t.volunteers == 2)
        #expect(t.counts == ["ZEBRA": 2], "ann's repeated ZEBRA once, her second T3 (LION) not read: \(t.counts)")
        #expect(t.fractions == ["ZEBRA": 1.0])
    }

    func classification(_ id: Int64, user: String, at seconds: Double, subject: String = "1", _ value: JSONValue) -> Classification {
        Classification(id: id, user: user, workflowID: "47", createdAt: Date(timeIntervalSince1970: seconds),
                       subjectIDs: [subject], annotations: [.init(task: "T0", value: value)],
                       subjectMetadata: [subject: ["#alert_id": "99"]])
    }

    @Test func eachVolunteerCountsOnceByTheirLatestAndRepeatsChangeNothing() throws {
        var a = Aggregator(rule: RetirementRule(classifications: nil, agreement: 0.75, minimum: 4))
        a.add(classification(1, user: "ann", at: 10, "Real"))
        a.add(classification(2, user: "bob", at: 11, "Bogus"))
        a.add(classification(3, user: "ann", at: 12, "Bogus"))  // ann changed her mind
        a.add(classification(4, user: "cat", at: 9, .null))     // skipped the question
        #expect(a.add(classification(2, user: "bob", at: 11, "Bogus")).isEmpty, "a repeated classification")
        let r = try #require(a.result(.init(workflowID: "47", subjectID: "1")))
        #expect(r.volunteers == 3 && r.classifications == 4 && r.lastClassificationID == 4)
        #expect(r.metadata["#alert_id"] == "99")
        let t = try #require(r.tasks.first)
        #expect(t.kind == .question)
        #expect(t.counts == ["Bogus": 2, TaskResult.noAnswer: 1])
        #expect(t.mostLikely == "Bogus" && t.numVotes == 2 && t.agreement == 2.0 / 3.0)
        #expect(t.fractions["Bogus"] == 2.0 / 3.0)
        #expect(!r.retired)
        // A late, older classification by ann does not replace her latest answer.
        a.add(classification(5, user: "ann", at: 1, "Real"))
        #expect(a.result(.init(workflowID: "47", subjectID: "1"))?.tasks.first?.counts["Real"] == nil)
        a.add(classification(6, user: "dan", at: 20, "Bogus"))
        a.add(classification(7, user: "eve", at: 21, "Bogus"))
        let retired = try #require(a.result(.init(workflowID: "47", subjectID: "1")))
        #expect(retired.tasks[0].agreement == 0.8 && retired.retired, "agreement 4/5 >= 0.75 after 5 volunteers")
    }

    @Test func multipleAnswerSurveyAndDrawingTasks() throws {
        var a = Aggregator(rule: RetirementRule(classifications: 2))
        let survey: JSONValue = [["choice": "SN", "answers": ["HOWMANY": "1"], "filters": [:]], ["choice": "AGN", "answers": [:], "filters": [:]]]
        a.add(Classification(id: 1, user: "a", workflowID: "9", createdAt: Date(), subjectIDs: ["s"],
                             annotations: [.init(task: "T0", value: ["Blue", "Green"]), .init(task: "T1", value: survey),
                                           .init(task: "T2", value: [["x": .number(1), "y": .number(2), "tool": .number(0)]])]))
        a.add(Classification(id: 2, user: "b", workflowID: "9", createdAt: Date(), subjectIDs: ["s"],
                             annotations: [.init(task: "T0", value: ["Blue"]), .init(task: "T1", value: [["choice": "SN"]])]))
        let r = try #require(a.results.first)
        #expect(r.retired, "two volunteers")
        #expect(r.tasks.map(\.kind) == [.multiple, .survey, .other])
        #expect(r.tasks[0].counts == ["Blue": 2, "Green": 1] && r.tasks[0].fractions["Blue"] == 1.0)
        #expect(r.tasks[1].counts == ["SN": 2, "AGN": 1])
        #expect(r.tasks[2].counts.isEmpty && r.tasks[2].volunteers == 1)
    }

    @Test func exportReaderErrorsSayWhere() throws {
        let header = "classification_id,user_name,user_id,user_ip,workflow_id,workflow_name,workflow_version,created_at,gold_standard,expert,metadata,annotations,subject_data,subject_ids\n"
        #expect { try ClassificationExport.parse(header + "12,ann,1,ip,47,w,1.1,yesterday,,,{},[],{},5\n", path: "x.csv") }
            throws: { "\($0)" == "x.csv:2: created_at: not a time: 'yesterday'" }
        #expect { try ClassificationExport.parse(header + "12,ann,1,ip,47,w,1.1,2024-02-23 16:17:42 UTC,,,{},\"[{\"\"value\"\":1}]\",{},5\n", path: "x.csv") }
            throws: { "\($0)" == "x.csv:2: annotations: an annotation without its task" }
        #expect { try ClassificationExport.parse("a,b\n1,2\n", path: "x.csv") }
            throws: { "\($0)".contains("not a Panoptes classification export") }
        let ok = try ClassificationExport.parse(header + "12,,,abc,47,w,1.1,2024-02-23T16:17:42.488Z,true,,{},[],\"{\"\"5\"\":{\"\"#alert_id\"\":\"\"7\"\"}}\",5\n", path: "x.csv")
        #expect(ok.first?.user == "not-logged-in-abc" && ok.first?.goldStandard == true)
        #expect(ok.first?.subjectMetadata["5"]?["#alert_id"] == "7")
    }
}
