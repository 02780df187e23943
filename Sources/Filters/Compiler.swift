import Avro
import AlertModel
import Foundation

/// The type of an expression, checked when the filter loads.
package indirect enum ValueType: Sendable, Equatable, CustomStringConvertible {
    case number, string, bool, null
    case list(ValueType)

    package var description: String {
        switch self {
        case .number: "number"
        case .string: "string"
        case .bool: "boolean"
        case .null: "NULL"
        case .list(let t): "list of \(t)"
        }
    }
}

/// Inside an aggregate's condition: the current item of the list being aggregated.
enum Item {
    case record(AvroRecord)
    case point(Photometry)
}

/// A compiled node: the alert is borrowed, not copied, so an evaluation retains nothing it need not.
typealias Eval = @Sendable (borrowing Alert, Item?) -> Value
/// A numeric node without the `Value` in between; NaN stands for NULL.
typealias NumberEval = @Sendable (borrowing Alert, Item?) -> Double
/// A condition without the `Value` in between.
typealias TruthEval = @Sendable (borrowing Alert, Item?) -> Truth

/// SQL's three truth values in a byte.
enum Truth: UInt8, Sendable {
    case no, yes, unknown

    init(_ b: Bool) { self = b ? .yes : .no }
    init(_ v: Value) { self = switch v { case .bool(true): .yes; case .bool(false): .no; default: .unknown } }
    var value: Value { switch self { case .yes: .bool(true); case .no: .bool(false); case .unknown: .null } }
}

/// A node after checking: its type and the closure that computes it. Numbers and conditions also
/// carry a typed closure, so that a rule made of comparisons never builds a `Value` per alert
/// (the one-field rules are a field read and a compare).
struct Compiled {
    let type: ValueType
    let eval: Eval
    /// The typed closure, when there is one. Not an Optional: a closure inside a generic type is
    /// stored at its most general abstraction, and each call then goes through thunks that copy
    /// the alert.
    let typed: Typed
    /// The node as a flat-program plan, when it reads only the alert's scalar numbers.
    package var plan: Plan? = nil

    enum Typed {
        case none
        case number(NumberEval)
        case truth(TruthEval)
    }

    init(type: ValueType, eval: @escaping Eval) {
        self.type = type
        self.eval = eval
        self.typed = .none
    }

    init(number: @escaping NumberEval) {
        self.type = .number
        self.typed = .number(number)
        self.eval = { alert, item in let x = number(alert, item); return x.isNaN ? .null : .number(x) }
    }

    init(truth: @escaping TruthEval) {
        self.type = .bool
        self.typed = .truth(truth)
        self.eval = { alert, item in truth(alert, item).value }
    }

    func with(_ plan: Plan?) -> Compiled {
        var c = self
        c.plan = plan
        return c
    }

    /// The node as a number closure (NaN for NULL), typed or wrapped.
    var asNumber: NumberEval {
        if case .number(let number) = typed { return number }
        let eval = eval
        return { alert, item in eval(alert, item).number ?? .nan }
    }

    /// The node as a condition closure, typed or wrapped.
    var asTruth: TruthEval {
        if case .truth(let truth) = typed { return truth }
        let eval = eval
        return { alert, item in Truth(eval(alert, item)) }
    }
}

/// A comparison operator, resolved when the rule compiles rather than per alert.
enum Comparison: Sendable {
    case eq, ne, lt, le, gt, ge

    init(_ op: String) {
        self = switch op { case "=": .eq; case "!=": .ne; case "<": .lt; case "<=": .le; case ">": .gt; default: .ge }
    }

    /// The comparison with its operands swapped: `a < b` is `b > a`.
    var flipped: Comparison {
        switch self {
        case .eq, .ne: self
        case .lt: .gt
        case .le: .ge
        case .gt: .lt
        case .ge: .le
        }
    }

    @inline(__always)
    func holds<T: Comparable>(_ a: T, _ b: T) -> Bool {
        switch self {
        case .eq: a == b
        case .ne: a != b
        case .lt: a < b
        case .le: a <= b
        case .gt: a > b
        case .ge: a >= b
        }
    }
}

/// External data the functions use (watchlists, regions), by name.
package struct FilterResources: Sendable {
    package var watchlists: [String: Watchlist] = [:]
    package var regions: [String: Region] = [:]
    package init(watchlists: [String: Watchlist] = [:], regions: [String: Region] = [:]) {
        self.watchlists = watchlists
        self.regions = regions
    }

    /// Where a filter folder keeps them: `watchlists/NAME.csv` and `regions/NAME.reg`.
    static let subfolders = ["watchlists", "regions"]

    /// Reads the watchlists and regions beside the filters in `folder`; a file that does not parse
    /// is left out and its error appended to `errors`.
    package static func load(folder: String, errors: inout [FilterError]) -> FilterResources {
        var resources = FilterResources()
        for (sub, suffix) in [("watchlists", ".csv"), ("regions", ".reg")] {
            let dir = (folder as NSString).appendingPathComponent(sub)
            for file in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter({ $0.hasSuffix(suffix) }).sorted() {
                let path = (dir as NSString).appendingPathComponent(file)
                let name = String(file.dropLast(suffix.count))
                do {
                    let text = try String(contentsOfFile: path, encoding: .utf8)
                    if suffix == ".csv" {
                        resources.watchlists[name] = try Watchlist(csv: text, name: name, file: path)
                    } else {
                        resources.regions[name] = try Region(ds9: text, name: name, file: path)
                    }
                } catch {
                    errors.append(FilterError(.file, "\(error)", offset: 0, length: 0).inFile(path, line: 1, column: 1))
                }
            }
        }
        return resources
    }
}

/// Checks a parsed rule against a survey's reader schema and compiles it to closures, once.
struct Compiler {
    let survey: Survey
    let schema: AvroRecordSchema
    let resources: FilterResources
    /// Inside an aggregate's condition: the fields of the list's items.
    var itemKind: ItemKind? = nil

    enum ItemKind {
        case record(AvroRecordSchema)
        case history
    }

    init(survey: Survey, resources: FilterResources) {
        self.survey = survey
        self.schema = ReaderSchemas.schema(for: survey)
        self.resources = resources
    }

    func compile(_ e: Expression) throws(FilterError) -> Compiled {
        switch e {
        case .number(let v, _): return Compiled(number: { _, _ in v }).with(.constant(v))
        case .string(let v, _): let x = Value.string(v); return Compiled(type: .string) { _, _ in x }
        case .bool(let v, _): let x = Truth(v); return Compiled(truth: { _, _ in x }).with(.truth(x))
        case .null: return Compiled(type: .null) { _, _ in .null }
        case .field(let name, let span): return try field(name, span)
        case .unit(let inner, let unit, _):
            let c = try compile(inner)
            try expect(c, .number, "an angle in \(unit)", inner.span)
            let f = unit == "arcsec" ? 1.0 / 3600 : unit == "arcmin" ? 1.0 / 60 : 1.0
            let x = c.asNumber
            var plan: Plan? = nil
            if case .constant(let v)? = c.plan { plan = .constant(v * f) }
            return Compiled(number: { alert, item in x(alert, item) * f }).with(plan)
        case .unary(let op, let inner, _):
            let c = try compile(inner)
            if op == "-" {
                try expect(c, .number, "'-'", inner.span)
                let x = c.asNumber
                var plan: Plan? = nil
                if case .constant(let v)? = c.plan { plan = .constant(-v) }
                return Compiled(number: { alert, item in -x(alert, item) }).with(plan)
            }
            try expect(c, .bool, "NOT", inner.span)
            let t = c.asTruth
            return Compiled(truth: { alert, item in
                switch t(alert, item) { case .yes: .no; case .no: .yes; case .unknown: .unknown }
            }).with(c.plan.map { .not($0) })
        case .binary(let op, let l, let r, _):
            return try binary(op, l, r)
        case .between(let x, let lo, let hi, let negated, _):
            let cx = try compile(x), clo = try compile(lo), chi = try compile(hi)
            for (c, part) in [(cx, x), (clo, lo), (chi, hi)] { try expect(c, .number, "BETWEEN", part.span) }
            let v = cx.asNumber, a = clo.asNumber, b = chi.asNumber
            return Compiled(truth: { alert, item in
                let x = v(alert, item), lo = a(alert, item), hi = b(alert, item)
                if x.isNaN || lo.isNaN || hi.isNaN { return .unknown }
                return Truth((x >= lo && x <= hi) != negated)
            }).with(Self.plans(cx, clo, chi).map { .between($0[0], $0[1], $0[2], negated: negated) })
        case .inList(let x, let items, let negated, _):
            let cx = try compile(x)
            var values: [Value] = []
            for item in items {
                guard let v = Self.constant(item) else {
                    throw FilterError(.type, "the items of an IN list must be constants", offset: item.span.offset, length: item.span.length)
                }
                let t: ValueType = switch v { case .number: .number; case .string: .string; case .bool: .bool; default: .null }
                guard t == cx.type || t == .null || cx.type == .null else {
                    throw FilterError(.type, "IN list item is a \(t), but the value is a \(cx.type)", offset: item.span.offset, length: item.span.length)
                }
                values.append(v)
            }
            let set = values
            return Compiled(type: .bool) { alert, item in
                let v = cx.eval(alert, item)
                if v == .null { return .null }
                let found = set.contains(v)
                return .bool(negated ? !found : found)
            }
        case .isNull(let x, let negated, _):
            let cx = try compile(x)
            switch cx.typed {
            case .number(let n):
                return Compiled(truth: { alert, item in Truth(n(alert, item).isNaN != negated) })
                    .with(cx.plan.flatMap { $0.isNumber ? .isNull($0, negated: negated) : nil })
            case .truth(let t): return Compiled(truth: { alert, item in Truth((t(alert, item) == .unknown) != negated) })
            case .none: break
            }
            return Compiled(truth: { alert, item in Truth((cx.eval(alert, item) == .null) != negated) })
        case .like(let x, let pattern, let isRegex, let negated, _):
            let cx = try compile(x)
            try expect(cx, .string, isRegex ? "REGEXP" : "LIKE", x.span)
            guard case .string(let p, let pspan) = pattern else {
                throw FilterError(.type, "the pattern of \(isRegex ? "REGEXP" : "LIKE") must be a 'string'", offset: pattern.span.offset, length: pattern.span.length)
            }
            let regex: NSRegularExpression
            do {
                regex = try NSRegularExpression(pattern: isRegex ? p : Self.likeToRegex(p), options: [])
            } catch {
                throw FilterError(.syntax, "invalid regular expression '\(p)'", offset: pspan.offset, length: pspan.length)
            }
            let matcher = UncheckedRegex(regex)
            return Compiled(type: .bool) { alert, item in
                guard case .string(let v) = cx.eval(alert, item) else { return .null }
                let found = matcher.matches(v)
                return .bool(negated ? !found : found)
            }
        case .call(let name, let args, let span):
            return try Functions.compile(name, args, span, self)
        }
    }

    /// The value of a literal (a number, possibly negative or with a unit, a string, TRUE, FALSE, NULL).
    static func constant(_ e: Expression) -> Value? {
        switch e {
        case .number(let v, _): .number(v)
        case .string(let v, _): .string(v)
        case .bool(let v, _): .bool(v)
        case .null: .null
        case .unary("-", let inner, _): constant(inner)?.number.map { .number(-$0) }
        case .unit(let inner, let u, _): constant(inner)?.number.map { .number($0 * (u == "arcsec" ? 1.0 / 3600 : u == "arcmin" ? 1.0 / 60 : 1)) }
        default: nil
        }
    }

    static func likeToRegex(_ pattern: String) -> String {
        var out = "^"
        for c in pattern {
            switch c {
            case "%": out += ".*"
            case "_": out += "."
            default: out += NSRegularExpression.escapedPattern(for: String(c))
            }
        }
        return out + "$"
    }

    func expect(_ c: Compiled, _ type: ValueType, _ what: String, _ span: Span) throws(FilterError) {
        guard c.type == type || c.type == .null else {
            throw FilterError(.type, "\(what) needs a \(type), found a \(c.type)", offset: span.offset, length: span.length)
        }
    }

    private func binary(_ op: String, _ l: Expression, _ r: Expression) throws(FilterError) -> Compiled {
        let cl = try compile(l), cr = try compile(r)
        switch op {
        case "AND", "OR":
            try expect(cl, .bool, op, l.span)
            try expect(cr, .bool, op, r.span)
            let a = cl.asTruth, b = cr.asTruth
            if op == "AND" {
                return Compiled(truth: { alert, item in
                    let x = a(alert, item)
                    if x == .no { return .no }
                    let y = b(alert, item)
                    if y == .no { return .no }
                    return x == .yes && y == .yes ? .yes : .unknown
                }).with(Self.plans(cl, cr).map { .and($0[0], $0[1]) })
            }
            return Compiled(truth: { alert, item in
                let x = a(alert, item)
                if x == .yes { return .yes }
                let y = b(alert, item)
                if y == .yes { return .yes }
                return x == .no && y == .no ? .no : .unknown
            }).with(Self.plans(cl, cr).map { .or($0[0], $0[1]) })
        case "+", "-", "*", "/":
            try expect(cl, .number, "'\(op)'", l.span)
            try expect(cr, .number, "'\(op)'", r.span)
            let a = cl.asNumber, b = cr.asNumber
            switch op {
            case "+": return Compiled(number: { alert, item in a(alert, item) + b(alert, item) })
            case "-": return Compiled(number: { alert, item in a(alert, item) - b(alert, item) })
            case "*": return Compiled(number: { alert, item in a(alert, item) * b(alert, item) })
            default: return Compiled(number: { alert, item in let y = b(alert, item); return y == 0 ? .nan : a(alert, item) / y })
            }
        default:  // comparisons
            let ordered = op != "=" && op != "!="
            let types = [cl.type, cr.type].filter { $0 != .null }
            if types.count == 2 && types[0] != types[1] {
                throw FilterError(.type, "cannot compare a \(cl.type) with a \(cr.type)", offset: l.span.offset, length: l.span.to(r.span).length)
            }
            if ordered, let t = types.first, t != .number && t != .string {
                throw FilterError(.type, "'\(op)' needs numbers or strings, found a \(t)", offset: l.span.offset, length: l.span.to(r.span).length)
            }
            let cmp = Comparison(op)
            if cl.type == .null || cr.type == .null {  // a comparison with the NULL literal is NULL, whatever the other side
                return Compiled(truth: { _, _ in .unknown }).with(.truth(.unknown))
            }
            if cl.type == .number && cr.type == .number {
                return Self.compareNumbers(cmp, cl, cr)
            }
            return Compiled(truth: { alert, item in
                switch (cl.eval(alert, item), cr.eval(alert, item)) {
                case (.number(let x), .number(let y)): Truth(cmp.holds(x, y))
                case (.string(let x), .string(let y)): Truth(cmp.holds(x, y))
                case (.bool(let x), .bool(let y)): Truth(cmp == .eq ? x == y : x != y)
                default: .unknown
                }
            })
        }
    }

    /// A number against a number; against a constant (the usual `field > 10`, the constant known
    /// from the right side's plan) one closure call fewer.
    static func compareNumbers(_ cmp: Comparison, _ l: Compiled, _ r: Compiled) -> Compiled {
        let plan = plans(l, r).flatMap { $0[0].isNumber && $0[1].isNumber ? Plan.compare(cmp, $0[0], $0[1]) : nil }
        let a = l.asNumber
        if case .constant(let c)? = r.plan {
            return Compiled(truth: { alert, item in
                let x = a(alert, item)
                return x.isNaN ? .unknown : Truth(cmp.holds(x, c))
            }).with(plan)
        }
        let b = r.asNumber
        return Compiled(truth: { alert, item in
            let x = a(alert, item), y = b(alert, item)
            return x.isNaN || y.isNaN ? .unknown : Truth(cmp.holds(x, y))
        }).with(plan)
    }

    /// The plans of all the nodes, or nil when one has none.
    static func plans(_ nodes: Compiled...) -> [Plan]? {
        let p = nodes.compactMap(\.plan)
        return p.count == nodes.count ? p : nil
    }

    /// Names of the alert model, the same for every survey.
    static let modelFields: [String: (ValueType, @Sendable (Alert) -> Value)] = [
        "alert_id": (.number, { .number(Double($0.alertId)) }),
        "source_id": (.number, { $0.sourceId.map { .number(Double($0)) } ?? .null }),
        "object_id": (.string, { Value($0.objectId) }),
        "survey": (.string, { .string($0.survey.rawValue) }),
        "mjd": (.number, { Value($0.mjd) }),
        "ra": (.number, { Value($0.ra) }),
        "dec": (.number, { Value($0.dec) }),
        "band": (.string, { Value($0.band) }),
        "flux": (.number, { Value($0.flux) }),
        "flux_error": (.number, { Value($0.fluxError) }),
        "magnitude": (.number, { Value($0.magnitude) }),
        "mag": (.number, { Value($0.magnitude) }),
        "magnitude_error": (.number, { Value($0.magnitudeError) }),
        "snr": (.number, { Value($0.snr) }),
        "reliability": (.number, { Value($0.reliability) }),
        "schema_version": (.string, { Value($0.schemaVersion) }),
    ]

    /// The fields of `history` items.
    static let historyFields: [String: (ValueType, @Sendable (Photometry) -> Value)] = [
        "mjd": (.number, { Value($0.mjd) }), "band": (.string, { Value($0.band) }),
        "flux": (.number, { Value($0.flux) }), "flux_error": (.number, { Value($0.fluxError) }),
        "magnitude": (.number, { Value($0.magnitude) }), "mag": (.number, { Value($0.magnitude) }),
        "magnitude_error": (.number, { Value($0.magnitudeError) }),
        "limiting_magnitude": (.number, { Value($0.limitingMagnitude) }),
        "is_detection": (.bool, { .bool($0.isDetection) }),
    ]

    static func type(of schema: AvroSchema) -> ValueType {
        switch schema.nonNull {
        case .boolean: .bool
        case .int, .long, .float, .double: .number
        case .string, .enumeration: .string
        case .array(let items): .list(type(of: items))
        default: .null
        }
    }

    private func field(_ name: String, _ span: Span) throws(FilterError) -> Compiled {
        switch itemKind {
        case .history:
            if let (t, get) = Self.historyFields[name] {
                return Compiled(type: t) { alert, item in if case .point(let p) = item { get(p) } else { .null } }
            }
        case .record(let item):
            if let path = try? FieldPath(name, in: item) {
                let t = Self.type(of: path.type)
                if t == .number && !path.crossesArray {
                    return Compiled(number: { _, item in if case .record(let r) = item { path.number(in: r) } else { .nan } })
                }
                return Compiled(type: t) { alert, item in if case .record(let r) = item { Value(path.value(in: r)) } else { .null } }
            }
        case nil:
            break
        }
        if let (t, get) = Self.modelFields[name] {
            if t == .number { return Compiled(number: { alert, _ in get(alert).number ?? .nan }) }
            return Compiled(type: t) { alert, _ in get(alert) }
        }
        if name == "history" {
            return Compiled(type: .list(.number)) { alert, item in .list(alert.history.map { Value($0.mjd) }) }
        }
        do {
            let path = try FieldPath(name, in: schema)
            let t = Self.type(of: path.type)
            if case .null = t {
                throw FilterError(.type, "'\(name)' is a \(path.type.description), which filters cannot compare", offset: span.offset, length: span.length)
            }
            if let slot = path.slot {
                // The decoder laid the alert's numbers out flat; a record made some other way is walked.
                return Compiled(number: { alert, _ in slot < alert.scalars.count ? alert.scalars[slot] : alert.number(at: path) })
                    .with(.slot(slot))
            }
            if t == .number && !path.crossesArray {
                return Compiled(number: { alert, _ in alert.number(at: path) })
            }
            return Compiled(type: t) { alert, item in Value(alert.value(at: path)) }
        } catch let e as FieldPath.Error {
            var candidates = e.candidates
            if e.segment == 0 { candidates += Self.modelFields.keys + ["history"] }
            if case .history = itemKind { candidates += Self.historyFields.keys }
            if case .record(let r) = itemKind { candidates += r.fields.map(\.name) }
            let segments = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let failing = e.segment < segments.count ? segments[e.segment] : name
            let suggestion = closest(failing, in: candidates).map { s in (segments.prefix(e.segment) + [s]).joined(separator: ".") }
            throw FilterError(.unknownField, "unknown field '\(name)' in \(survey.rawValue) alerts (\(e.reason))",
                              offset: span.offset, length: span.length, suggestion: suggestion)
        } catch let e as FilterError {
            throw e
        } catch {
            throw FilterError(.unknownField, "\(error)", offset: span.offset, length: span.length)
        }
    }
}

/// NSRegularExpression is thread-safe for matching; it is compiled once per filter.
struct UncheckedRegex: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ r: NSRegularExpression) { regex = r }
    func matches(_ s: String) -> Bool {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }
}
