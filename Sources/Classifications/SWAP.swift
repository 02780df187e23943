import State
import Foundation

/// Volunteer weighting as Space Warps and Supernova Hunters did it (SWAP, Marshall et al. 2016): on a
/// yes/no reading of one question task ("is the answer `positive`?"), each volunteer has a skill —
/// P(says positive | is positive) and P(says negative | is negative) — learned from the subjects whose
/// truth a gold-standard classification gives; each subject's probability of being positive starts at
/// `prior` and is updated by Bayes' rule with every volunteer's latest answer, weighted by their skill.
/// A volunteer never seen on a gold subject has `initialSkill` (0.5: their answers move nothing).
package struct SWAP: Sendable, Equatable, CustomStringConvertible {
    package var task: String
    /// The answer label that means "positive" (e.g. `Real`).
    package var positive: String
    package var prior: Double
    package var initialSkill: Double
    /// How many pseudo-classifications the initial skill weighs against those on gold subjects.
    package var strength: Double

    package init(task: String, positive: String, prior: Double = 0.5, initialSkill: Double = 0.5, strength: Double = 2) {
        self.task = task
        self.positive = positive
        self.prior = prior
        self.initialSkill = initialSkill
        self.strength = strength
    }

    package var description: String {
        "SWAP on \(task) = \(positive): prior \(prior), initial skill \(initialSkill), strength \(strength)"
    }

    /// A volunteer's confusion matrix, as counts on gold subjects.
    package struct Skill: Sendable, Equatable {
        package var positivesSeen = 0.0, positivesRight = 0.0
        package var negativesSeen = 0.0, negativesRight = 0.0
    }

    func pPositive(_ s: Skill?) -> Double {
        ((s?.positivesRight ?? 0) + initialSkill * strength) / ((s?.positivesSeen ?? 0) + strength)
    }

    func pNegative(_ s: Skill?) -> Double {
        ((s?.negativesRight ?? 0) + initialSkill * strength) / ((s?.negativesSeen ?? 0) + strength)
    }

    /// The answer of a classification on the task: true (positive), false, or nil (no answer).
    func says(_ c: Classification) -> Bool? {
        guard let a = c.annotations.first(where: { $0.task == task }) else { return nil }
        switch a.value {
        case .string(let s): return s == positive
        case .array(let items): return items.contains { $0.string == positive }
        case .null: return nil
        default: return Aggregator.label(a.value) == positive
        }
    }

    /// Skills from the classifications of gold subjects (their truth: the gold-standard answer).
    func skills(latest: [[Classification]]) -> [String: Skill] {
        var skills: [String: Skill] = [:]
        for classifications in latest {
            guard let truth = classifications.last(where: \.goldStandard).flatMap(says) else { continue }
            for c in classifications where !c.goldStandard {
                guard let said = says(c) else { continue }
                var s = skills[c.volunteer] ?? Skill()
                if truth { s.positivesSeen += 1; if said { s.positivesRight += 1 } }
                else { s.negativesSeen += 1; if !said { s.negativesRight += 1 } }
                skills[c.volunteer] = s
            }
        }
        return skills
    }

    /// The subject's probability of being positive after its volunteers' latest answers.
    func posterior(_ classifications: [Classification], skills: [String: Skill]) -> Double {
        var p = prior
        for c in classifications where !c.goldStandard {
            guard let said = says(c) else { continue }
            let s = skills[c.volunteer]
            let pl = pPositive(s), pd = pNegative(s)
            let (yes, no) = said ? (pl * p, (1 - pd) * (1 - p)) : ((1 - pl) * p, pd * (1 - p))
            if yes + no > 0 { p = yes / (yes + no) }
        }
        return p
    }
}
