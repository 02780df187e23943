import AlertModel
import Foundation

/// A compiled rule: parsed and checked once against each survey it applies to, then evaluated per
/// alert with no parsing and no look-up by name. A NULL result counts as no match (SQL's WHERE).
package final class FilterRule: Sendable {
    package let name: String
    package let expression: String
    /// The surveys whose alerts the rule can read (those whose schema has every field it names).
    package let surveys: [Survey]
    let evals: [Eval?]  // indexed by survey
    /// The conditions per survey, each in its own stored property and not Optional: called with no
    /// array access and no reabstraction thunk (a survey the rule does not read gets `unread`).
    let ztf: TruthEval, rubin: TruthEval
    /// The same conditions as flat programs, for rules that read only scalar numbers (empty otherwise).
    let ztfProgram: [RuleProgram.Node], rubinProgram: [RuleProgram.Node]
    let ztfWidth: Int, rubinWidth: Int
    private static let unread: TruthEval = { _, _ in .no }
    let tree: Expression
    /// The top-level AND clauses, each compiled, for pass rates (`citsci filter test`).
    package let clauses: [Clause]

    package struct Clause: Sendable {
        package let text: String
        let evals: [Eval?]
        package func passes(_ alert: Alert) -> Bool? {
            guard let e = evals[index(alert.survey)] else { return nil }
            return e(alert, nil).truth == true
        }
    }

    /// Compiles `expression`; `surveys` nil means every survey whose schema fits.
    package init(name: String, expression: String, surveys: [Survey]? = nil, resources: FilterResources = FilterResources()) throws(FilterError) {
        let tree = try Parser.parse(expression)
        var evals = [Eval?](repeating: nil, count: Survey.allCases.count)
        var ztf = Self.unread, rubin = Self.unread
        var programs: [Survey: RuleProgram] = [:]
        var errors: [FilterError] = []
        for survey in surveys ?? Survey.allCases {
            do throws(FilterError) {
                let c = try Compiler(survey: survey, resources: resources).compile(tree)
                guard c.type == .bool || c.type == .null else {
                    throw FilterError(.type, "a filter must be a condition (true or false), this is a \(c.type)", offset: tree.span.offset, length: tree.span.length)
                }
                evals[index(survey)] = c.eval
                programs[survey] = c.plan.flatMap(RuleProgram.init)
                switch survey {
                case .ztf: ztf = c.asTruth
                case .rubin: rubin = c.asTruth
                }
            } catch {
                errors.append(error)
            }
        }
        let usable = Survey.allCases.filter { evals[index($0)] != nil }
        if usable.isEmpty {
            // The most helpful error: one with a suggestion, else one that is not about a field.
            throw errors.first { $0.suggestion != nil } ?? errors.first { $0.kind != .unknownField } ?? errors[0]
        }
        var clauses: [Clause] = []
        for part in Self.topLevelClauses(tree) {
            let bytes = Array(expression.utf8)
            let text = String(decoding: bytes[part.span.offset..<min(bytes.count, part.span.offset + part.span.length)], as: UTF8.self)
            var ce = [Eval?](repeating: nil, count: Survey.allCases.count)
            for s in usable { ce[index(s)] = try? Compiler(survey: s, resources: resources).compile(part).eval }
            clauses.append(Clause(text: text, evals: ce))
        }
        self.name = name
        self.expression = expression
        self.surveys = usable
        self.evals = evals
        self.ztf = ztf
        self.rubin = rubin
        ztfProgram = programs[.ztf]?.nodes ?? []
        rubinProgram = programs[.rubin]?.nodes ?? []
        // -1 when there is no program: no alert's numbers then have that many entries.
        ztfWidth = programs[.ztf] == nil ? -1 : ReaderSchemas.scalarWidth(for: .ztf)
        rubinWidth = programs[.rubin] == nil ? -1 : ReaderSchemas.scalarWidth(for: .rubin)
        self.tree = tree
        self.clauses = clauses
    }

    static func topLevelClauses(_ e: Expression) -> [Expression] {
        if case .binary("AND", let a, let b, _) = e { return topLevelClauses(a) + topLevelClauses(b) }
        return [e]
    }

    package func applies(to survey: Survey) -> Bool { evals[index(survey)] != nil }

    /// True when the alert passes (false for NULL, and for a survey the rule does not read).
    @inline(__always)
    package func matches(_ alert: Alert) -> Bool {
        truth(alert) == .yes
    }

    /// The flat program when the rule has one and the alert's numbers are laid out for it, else the closures.
    @inline(__always)
    func truth(_ alert: Alert) -> Truth {
        switch alert.survey {
        case .ztf:
            ztfWidth == alert.scalars.count ? RuleProgram.evaluate(ztfProgram, alert.scalars) : ztf(alert, nil)
        case .rubin:
            rubinWidth == alert.scalars.count ? RuleProgram.evaluate(rubinProgram, alert.scalars) : rubin(alert, nil)
        }
    }

    /// The value the rule gives (TRUE, FALSE or NULL), for tests and explanations.
    package func evaluate(_ alert: Alert) -> Value {
        evals[index(alert.survey)] == nil ? .null : truth(alert).value
    }

    /// The parsed tree, one node a line.
    package var explanation: String { tree.tree() }
}

@inline(__always)
func index(_ s: Survey) -> Int { s == .rubin ? 0 : 1 }
