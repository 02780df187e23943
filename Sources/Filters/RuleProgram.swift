import AlertModel

/// The part of a rule that reads only the alert's flat numbers (`Alert.scalars`): comparisons of
/// fields and constants, BETWEEN, IS NULL, AND, OR, NOT. Built beside the closures when a rule is
/// compiled; a rule made only of these runs as a `RuleProgram`, which touches no object per node.
indirect enum Plan: Sendable {
    case slot(Int)
    case constant(Double)
    case truth(Truth)
    case compare(Comparison, Plan, Plan)
    case between(Plan, Plan, Plan, negated: Bool)
    case isNull(Plan, negated: Bool)
    case and(Plan, Plan)
    case or(Plan, Plan)
    case not(Plan)

    var isNumber: Bool {
        switch self {
        case .slot, .constant: true
        default: false
        }
    }
}

/// A `Plan` laid out flat, in prefix order, with each node knowing where its subtree ends: the
/// evaluation is array indexing and a switch on a byte. Its answers are the closures' answers
/// (SQL NULL as NaN), which `RuleProgramTests` checks on real alerts.
struct RuleProgram: Sendable {
    enum Op: UInt8, Sendable { case compare, between, isNull, and, or, not, truth }

    /// A number: a slot of `Alert.scalars`, or a constant when `slot` is negative.
    struct Operand: Sendable {
        var slot: Int32 = -1
        var constant: Double = .nan
    }

    struct Node: Sendable {
        var op: Op
        var comparison: Comparison = .eq
        var negated = false
        var truth: Truth = .unknown
        /// The index just past this node's subtree.
        var end: Int32 = 0
        var x = Operand(), y = Operand(), z = Operand()
    }

    let nodes: [Node]

    /// Nil when the plan is not a condition.
    init?(_ plan: Plan) {
        var nodes: [Node] = []
        guard Self.emit(plan, into: &nodes) else { return nil }
        self.nodes = nodes
    }

    private static func operand(_ p: Plan) -> Operand? {
        switch p {
        case .slot(let s): Operand(slot: Int32(s))
        case .constant(let c): Operand(slot: -1, constant: c)
        default: nil
        }
    }

    private static func emit(_ plan: Plan, into nodes: inout [Node]) -> Bool {
        let at = nodes.count
        switch plan {
        case .compare(let cmp, let a, let b):
            guard let x = operand(a), let y = operand(b) else { return false }
            nodes.append(Node(op: .compare, comparison: cmp, x: x, y: y))
        case .between(let v, let lo, let hi, let negated):
            guard let x = operand(v), let y = operand(lo), let z = operand(hi) else { return false }
            nodes.append(Node(op: .between, negated: negated, x: x, y: y, z: z))
        case .isNull(let v, let negated):
            guard let x = operand(v) else { return false }
            nodes.append(Node(op: .isNull, negated: negated, x: x))
        case .truth(let t):
            nodes.append(Node(op: .truth, truth: t))
        case .and(let a, let b), .or(let a, let b):
            nodes.append(Node(op: { if case .and = plan { return .and } else { return .or } }()))
            guard emit(a, into: &nodes), emit(b, into: &nodes) else { return false }
        case .not(let a):
            nodes.append(Node(op: .not))
            guard emit(a, into: &nodes) else { return false }
        case .slot, .constant:
            return false  // a number is not a condition
        }
        nodes[at].end = Int32(nodes.count)
        return true
    }

    /// The value of the program `nodes` for an alert whose numbers are `x`.
    @inline(__always)
    static func evaluate(_ nodes: [Node], _ x: [Double]) -> Truth { evaluate(nodes, 0, x) }

    @inline(__always)
    private static func read(_ o: Operand, _ x: [Double]) -> Double {
        o.slot < 0 ? o.constant : x[Int(o.slot)]
    }

    /// The value of the program starting at `i` in `nodes` (several programs laid end to end).
    static func evaluate(_ nodes: [Node], _ i: Int, _ x: [Double]) -> Truth {
        let n = nodes[i]
        switch n.op {
        case .compare:
            let a = read(n.x, x), b = read(n.y, x)
            return a.isNaN || b.isNaN ? .unknown : Truth(n.comparison.holds(a, b))
        case .between:
            let v = read(n.x, x), lo = read(n.y, x), hi = read(n.z, x)
            if v.isNaN || lo.isNaN || hi.isNaN { return .unknown }
            return Truth((v >= lo && v <= hi) != n.negated)
        case .isNull:
            return Truth(read(n.x, x).isNaN != n.negated)
        case .truth:
            return n.truth
        case .not:
            switch evaluate(nodes, i + 1, x) {
            case .yes: return .no
            case .no: return .yes
            case .unknown: return .unknown
            }
        case .and:
            let a = evaluate(nodes, i + 1, x)
            if a == .no { return .no }
            let b = evaluate(nodes, Int(nodes[i + 1].end), x)
            if b == .no { return .no }
            return a == .yes && b == .yes ? .yes : .unknown
        case .or:
            let a = evaluate(nodes, i + 1, x)
            if a == .yes { return .yes }
            let b = evaluate(nodes, Int(nodes[i + 1].end), x)
            if b == .yes { return .yes }
            return a == .no && b == .no ? .no : .unknown
        }
    }
}

/// Many rules evaluated together on one alert. The rules that have a flat program run from one
/// array holding all their programs, so a pass over hundreds of filters touches no rule object
/// (iterating rule objects retains and releases each one, which costs more than a comparison);
/// the others run their closures.
package struct RuleBook: Sendable {
    package let rules: [FilterRule]
    private let ztf: Part, rubin: Part

    /// A class, so that choosing the survey's part copies one reference, not three arrays.
    final class Part: Sendable {
        let nodes: [RuleProgram.Node]
        /// Rules whose program is one comparison of a field with a constant (`candidate.magpsf < 19`),
        /// the commonest rule: read from one compact array, with no walk of a program.
        let comparisons: [FieldComparison]
        /// Rule index and first node of each other rule that has a program.
        let programs: [(rule: Int, start: Int)]
        /// Rules evaluated by their closures.
        let others: [Int]
        /// Rules that do not read this survey's alerts.
        let unread: [Int]
        let width: Int

        init(_ rules: [FilterRule], _ survey: Survey) {
            var nodes: [RuleProgram.Node] = [], programs: [(rule: Int, start: Int)] = [], others: [Int] = []
            var comparisons: [FieldComparison] = []
            for (i, r) in rules.enumerated() where r.applies(to: survey) {
                let program = survey == .ztf ? r.ztfProgram : r.rubinProgram
                if program.isEmpty {
                    others.append(i)
                } else if program.count == 1, let c = FieldComparison(rule: i, program[0]) {
                    comparisons.append(c)
                } else {
                    let start = nodes.count
                    programs.append((i, start))
                    nodes += program.map { n in var n = n; n.end += Int32(start); return n }
                }
            }
            self.nodes = nodes
            self.comparisons = comparisons
            self.programs = programs
            self.others = others
            self.unread = rules.indices.filter { !rules[$0].applies(to: survey) }
            self.count = comparisons.count + programs.count
            self.hasClosures = !others.isEmpty || !unread.isEmpty
            self.width = ReaderSchemas.scalarWidth(for: survey)
        }

        /// How many rules have a program.
        let count: Int
        /// Whether any rule runs as a closure or does not read this survey.
        let hasClosures: Bool

        @inline(__always)
        func evaluate(_ x: [Double], into hits: inout [Bool]) {
            hits.withUnsafeMutableBufferPointer { evaluate(x, into: $0) }
        }

        @inline(__always)
        func evaluate(_ x: [Double], into hits: UnsafeMutableBufferPointer<Bool>) {
            for c in comparisons {
                let v = x[Int(c.slot)]
                hits[Int(c.rule)] = !v.isNaN && c.comparison.holds(v, c.constant)
            }
            for (rule, start) in programs { hits[rule] = RuleProgram.evaluate(nodes, start, x) == .yes }
        }
    }

    /// `field <op> constant`, as a program of one node would compute it (NULL field: not a match).
    struct FieldComparison: Sendable {
        var rule: Int32
        var slot: Int32
        var comparison: Comparison
        var constant: Double

        /// Nil unless the node compares a field with a constant that is not NULL.
        init?(rule: Int, _ n: RuleProgram.Node) {
            guard n.op == .compare else { return nil }
            self.rule = Int32(rule)
            if n.x.slot >= 0, n.y.slot < 0, !n.y.constant.isNaN {
                (slot, comparison, constant) = (n.x.slot, n.comparison, n.y.constant)
            } else if n.x.slot < 0, n.y.slot >= 0, !n.x.constant.isNaN {
                (slot, comparison, constant) = (n.y.slot, n.comparison.flipped, n.x.constant)  // 19 > m is m < 19
            } else {
                return nil
            }
        }
    }

    package init(_ rules: [FilterRule]) {
        self.rules = rules
        ztf = Part(rules, .ztf)
        rubin = Part(rules, .rubin)
    }

    /// Rules of `survey` that run as closures, by index: `FilterSet` times each of them alone.
    package func closureRules(for survey: Survey) -> [Int] { (survey == .ztf ? ztf : rubin).others }

    /// Sets `hits[i]` for each rule that runs as a flat program; returns how many ran. Other
    /// entries are left as they are.
    @discardableResult
    package func evaluatePrograms(_ alert: Alert, into hits: inout [Bool]) -> Int {
        switch alert.survey {  // each branch names its part: binding one to a local would retain it
        case .ztf: run(ztf, alert, &hits, closures: false)
        case .rubin: run(rubin, alert, &hits, closures: false)
        }
    }

    /// Sets `hits[i]` to whether the alert passes `rules[i]` (resized to the rule count).
    package func evaluate(_ alert: Alert, into hits: inout [Bool]) {
        switch alert.survey {
        case .ztf: _ = run(ztf, alert, &hits, closures: true)
        case .rubin: _ = run(rubin, alert, &hits, closures: true)
        }
    }

    /// How many of `alerts` pass each rule.
    package func matchCounts(_ alerts: [Alert]) -> [Int] {
        var counts = [Int](repeating: 0, count: rules.count)
        var hits: [Bool] = []
        var flags = [Bool](repeating: false, count: rules.count)
        counts.withUnsafeMutableBufferPointer { counts in flags.withUnsafeMutableBufferPointer { flags in
            for i in alerts.indices {
                // Reading the alert in place where only programs run: passing it to a call retains it.
                switch alerts[i].survey {
                case .ztf where !ztf.hasClosures && ztf.width == alerts[i].scalars.count:
                    ztf.evaluate(alerts[i].scalars, into: flags)
                case .rubin where !rubin.hasClosures && rubin.width == alerts[i].scalars.count:
                    rubin.evaluate(alerts[i].scalars, into: flags)
                default:
                    evaluate(alerts[i], into: &hits)
                    for r in hits.indices { flags[r] = hits[r] }
                }
                for r in flags.indices { counts[r] &+= flags[r] ? 1 : 0 }
            }
        } }
        return counts
    }

    /// One call per alert, whatever the mix of rules: with one cheap filter, calls and checks
    /// around it cost more than the comparison.
    @inline(__always)
    private func run(_ part: Part, _ alert: Alert, _ hits: inout [Bool], closures: Bool) -> Int {
        if hits.count != rules.count { hits = [Bool](repeating: false, count: rules.count) }
        if part.width == alert.scalars.count { part.evaluate(alert.scalars, into: &hits) } else { slow(part, alert, &hits) }
        if closures && part.hasClosures {
            for rule in part.others { hits[rule] = rules[rule].matches(alert) }
            for rule in part.unread { hits[rule] = false }
        }
        return part.count
    }

    /// An alert whose numbers are not laid out for the programs (not made by the decoder).
    private func slow(_ part: Part, _ alert: Alert, _ hits: inout [Bool]) {
        for c in part.comparisons { hits[Int(c.rule)] = rules[Int(c.rule)].matches(alert) }
        for (rule, _) in part.programs { hits[rule] = rules[rule].matches(alert) }
    }
}
