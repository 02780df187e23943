import AlertModel
import Foundation
import Testing
import TestSupport
@testable import Filters

/// Rules that read only scalar numbers run as flat programs; their answers must be the closures'.
@Suite(needsData) struct RuleProgramTests {
    static let ztfRules = [
        "candidate.magpsf < 19", "candidate.magpsf >= 18.5 AND candidate.drb > 0.9", "candidate.drb IS NULL",
        "candidate.magpsf BETWEEN 17 AND 19", "candidate.magpsf NOT BETWEEN 17 AND 19",
        "NOT (candidate.sgscore1 > 0.5) OR candidate.distpsnr1 < 2", "candidate.tooflag IS NOT NULL AND candidate.tooflag = 0",
        "candidate.magpsf > candidate.diffmaglim", "-1 < candidate.magnr OR candidate.jd > 2460000.5",
        "candidate.ssdistnr != -999 AND (candidate.ssmagnr < 20 OR candidate.ndethist >= 3)", "TRUE AND candidate.fid = 2",
        "candidate.magzpsci > NULL OR candidate.rb > 0.5", "3600 arcsec > candidate.distnr",
    ]
    static let rubinRules = [
        "diaSource.snr > 10", "diaSource.psfFlux > 1000 AND diaSource.reliability > 0.5",
        "diaObject.nDiaSources >= 3 OR diaObject.ra IS NULL", "diaObject.ra IS NULL", "diaSource.dec BETWEEN -30 AND 0",
        "NOT (diaSource.psfFluxErr < 100)",
    ]

    static func alerts(_ folder: String) throws -> [Alert] {
        try Paths.avroFiles(folder).prefix(60).flatMap { try AlertDecoder().decode(try Paths.bytes($0)) }
    }

    @Test func programsAnswerAsTheClosuresDo() throws {
        for (folder, survey, texts) in [("ztf-fink-distributed", Survey.ztf, Self.ztfRules), ("rubin-7.4", .rubin, Self.rubinRules)] {
            let alerts = try Self.alerts(folder)
            #expect(alerts.count > 20)
            for text in texts {
                let rule = try FilterRule(name: "p", expression: text, surveys: [survey])
                let program = survey == .ztf ? rule.ztfProgram : rule.rubinProgram
                let closure = survey == .ztf ? rule.ztf : rule.rubin
                try #require(!program.isEmpty, "\(text) should run as a program")
                for a in alerts {
                    let viaProgram = RuleProgram.evaluate(program, a.scalars), viaClosure = closure(a, nil)
                    #expect(viaProgram == viaClosure, "\(text) on alert \(a.alertId)")
                }
            }
        }
    }

    @Test func rulesWithFunctionsKeepTheirClosuresAndTheBookAgreesWithEachRule() throws {
        let texts = ["candidate.magpsf < 19", "count(prv_candidates) >= 3", "flux_to_mag(flux) < 19 OR candidate.drb > 0.9",
                     "object_id LIKE 'ZTF18%'", "candidate.drb > 0.5 AND candidate.magpsf BETWEEN 15 AND 20", "diaSource.snr > 5"]
        let rules = try texts.map { try FilterRule(name: $0, expression: $0) }
        #expect(rules[0].ztfProgram.count == 1 && rules[1].ztfProgram.isEmpty && rules[2].ztfProgram.isEmpty)
        let book = RuleBook(rules)
        #expect(book.closureRules(for: .ztf) == [1, 2, 3])
        var hits: [Bool] = []
        var matched = 0
        for var a in try Self.alerts("ztf-fink-distributed") + Self.alerts("rubin-7.4") {
            book.evaluate(a, into: &hits)
            #expect(hits == rules.map { $0.matches(a) })
            matched += hits.filter { $0 }.count
            a.scalars = []  // not laid out by the decoder: the closures answer
            book.evaluate(a, into: &hits)
            #expect(hits == rules.map { $0.matches(a) })
        }
        #expect(matched > 50)
        // Closures, programs, rules of one survey and alerts not laid out by the decoder, counted at once.
        var alerts = try Self.alerts("ztf-fink-distributed") + Self.alerts("rubin-7.4")
        alerts[0].scalars = []
        let counts = book.matchCounts(alerts)
        #expect(counts == rules.map { r in alerts.filter { r.matches($0) }.count })
        #expect(RuleBook([rules[0], rules[5]]).matchCounts(alerts) == [counts[0], counts[5]])
    }

    /// The book runs a one-comparison program from its compact array (`FieldComparison`), either
    /// way round and with NULL fields and constants: it must answer as the rule does.
    @Test func oneComparisonRulesInTheBookAnswerAsTheirRules() throws {
        let singles = ["candidate.magpsf < 19", "19 > candidate.magpsf", "candidate.magpsf <= 18.2", "17 <= candidate.magpsf",
                       "candidate.fid = 2", "2 != candidate.fid", "candidate.tooflag != 1", "candidate.tooflag = 0",
                       "candidate.magzpsci > NULL", "NULL != candidate.rb", "candidate.drb >= 0.99", "0.5 < candidate.drb",
                       "diaSource.snr > 10", "1000 >= diaSource.psfFlux", "diaSource.psfFlux != 0"]
        let rules = try (singles + Self.ztfRules + Self.rubinRules).enumerated().map { i, t in try FilterRule(name: "r\(i)", expression: t) }
        let book = RuleBook(rules)
        #expect(book.closureRules(for: .ztf).isEmpty && book.closureRules(for: .rubin).isEmpty)
        var hits: [Bool] = []
        var matched = Set<Int>()
        for a in try Self.alerts("ztf-fink-distributed") + Self.alerts("rubin-7.4") {
            book.evaluate(a, into: &hits)
            let expected = rules.map { $0.matches(a) }
            #expect(hits == expected, "alert \(a.alertId)")
            matched.formUnion(expected.indices.filter { expected[$0] })
        }
        // Each one-comparison rule that can match did (the two against NULL never can).
        #expect(Set(singles.indices).subtracting(matched) == [8, 9])
        let alerts = try Self.alerts("ztf-fink-distributed") + Self.alerts("rubin-7.4")
        #expect(book.matchCounts(alerts) == rules.map { r in alerts.filter { r.matches($0) }.count })
    }
}
