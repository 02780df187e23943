import AlertModel
import Foundation

/// The functions of the rule language: checked (name, arity, argument types) at load, compiled once.
enum Functions {
    static let aggregates: Set<String> = ["count", "min", "max", "mean", "any", "all", "first", "last"]

    /// name → (arity range, one-line help), for checking and for `did you mean`.
    static let catalogue: [String: (ClosedRange<Int>, String)] = [
        "count": (1...2, "count(list [, condition]): items (satisfying the condition)"),
        "min": (1...2, "min(list.field [, condition])"), "max": (1...2, "max(list.field [, condition])"),
        "mean": (1...2, "mean(list.field [, condition])"),
        "any": (1...2, "any(list, condition) or any(list.flag)"), "all": (1...2, "all(list, condition) or all(list.flag)"),
        "first": (1...2, "first(list.field [, condition])"), "last": (1...2, "last(list.field [, condition])"),
        "flux_to_mag": (1...1, "flux_to_mag(flux_nJy): AB magnitude"),
        "mag_error": (2...2, "mag_error(flux, flux_error): magnitude error"),
        "abs": (1...1, "abs(x)"), "sqrt": (1...1, "sqrt(x)"), "log10": (1...1, "log10(x)"),
        "angular_distance": (4...4, "angular_distance(ra1, dec1, ra2, dec2): degrees"),
        "cone": (3...3, "cone(ra, dec, radius): the alert is within radius of (ra, dec)"),
        "galactic_latitude": (0...2, "galactic_latitude([ra, dec]): degrees, of the alert by default"),
        "galactic_longitude": (0...2, "galactic_longitude([ra, dec]): degrees"),
        "days_since_first_detection": (0...0, "days_since_first_detection(): days since the object's first detection"),
        "color": (2...2, "color('g', 'r'): latest magnitude in the first band minus latest in the second"),
        "rise_rate": (0...1, "rise_rate(['band']): brightening in mag/day over the detections"),
        "fade_rate": (0...1, "fade_rate(['band']): fading in mag/day over the detections"),
        "in_watchlist": (2...2, "in_watchlist('name', radius): within radius of an entry of the named watchlist"),
        "in_region": (1...1, "in_region('name'): inside a circle or polygon of regions/name.reg"),
    ]

    static func compile(_ name: String, _ args: [Expression], _ span: Span, _ c: Compiler) throws(FilterError) -> Compiled {
        guard let (arity, help) = catalogue[name] else {
            throw FilterError(.unknownFunction, "unknown function '\(name)'", offset: span.offset, length: name.utf8.count,
                              suggestion: closest(name, in: catalogue.keys))
        }
        guard arity.contains(args.count) else {
            let n = arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)"
            throw FilterError(.arity, "\(name) takes \(n) argument\(arity.upperBound == 1 ? "" : "s"), got \(args.count): \(help)",
                              offset: span.offset, length: span.length)
        }
        if aggregates.contains(name) { return try aggregate(name, args, span, c) }
        var compiled: [Compiled] = []
        for a in args { compiled.append(try c.compile(a)) }
        func numbers() throws(FilterError) {
            for (x, a) in zip(compiled, args) { try c.expect(x, .number, "\(name)()", a.span) }
        }
        func constantString(_ i: Int) throws(FilterError) -> String {
            guard case .string(let s, _) = args[i] else {
                throw FilterError(.type, "argument \(i + 1) of \(name) must be a 'string'", offset: args[i].span.offset, length: args[i].span.length)
            }
            return s
        }
        switch name {
        case "flux_to_mag":
            try numbers()
            let f = compiled[0]
            return Compiled(type: .number) { alert, item in Value(f.eval(alert, item).number.flatMap { Photometric.magnitude(fluxNJy: $0) }) }
        case "mag_error":
            try numbers()
            let (f, e) = (compiled[0], compiled[1])
            return Compiled(type: .number) { alert, item in
                guard let x = f.eval(alert, item).number, let y = e.eval(alert, item).number else { return .null }
                return Value(Photometric.magnitudeError(fluxNJy: x, error: y))
            }
        case "abs", "sqrt", "log10":
            try numbers()
            let f = compiled[0]
            let kind = name
            return Compiled(type: .number) { alert, item in
                guard let x = f.eval(alert, item).number else { return .null }
                switch kind {
                case "abs": return .number(Swift.abs(x))
                case "sqrt": return x >= 0 ? .number(x.squareRoot()) : .null
                default: return x > 0 ? .number(Foundation.log10(x)) : .null
                }
            }
        case "angular_distance":
            try numbers()
            let a = compiled
            return Compiled(type: .number) { alert, item in
                guard let r1 = a[0].eval(alert, item).number, let d1 = a[1].eval(alert, item).number, let r2 = a[2].eval(alert, item).number, let d2 = a[3].eval(alert, item).number else { return .null }
                return .number(Sky.separation(r1, d1, r2, d2))
            }
        case "cone":
            try numbers()
            let a = compiled
            return Compiled(type: .bool) { alert, item in
                guard let r = a[0].eval(alert, item).number, let d = a[1].eval(alert, item).number, let radius = a[2].eval(alert, item).number,
                      alert.ra.isFinite, alert.dec.isFinite else { return .null }
                return .bool(Sky.separation(alert.ra, alert.dec, r, d) <= radius)
            }
        case "galactic_latitude", "galactic_longitude":
            guard args.count != 1 else {
                throw FilterError(.arity, "\(name) takes no arguments (the alert's position) or two (ra, dec)", offset: span.offset, length: span.length)
            }
            try numbers()
            let a = compiled, latitude = name == "galactic_latitude"
            return Compiled(type: .number) { alert, item in
                let ra = a.isEmpty ? alert.ra : a[0].eval(alert, item).number ?? .nan
                let dec = a.isEmpty ? alert.dec : a[1].eval(alert, item).number ?? .nan
                guard ra.isFinite, dec.isFinite else { return .null }
                let g = Sky.galactic(ra: ra, dec: dec)
                return .number(latitude ? g.b : g.l)
            }
        case "days_since_first_detection":
            return Compiled(type: .number) { alert, item in
                let first = alert.history.lazy.filter(\.isDetection).map(\.mjd).min() ?? alert.mjd
                guard first.isFinite, alert.mjd.isFinite else { return .null }
                return .number(alert.mjd - Swift.min(first, alert.mjd))
            }
        case "color":
            let b1 = try constantString(0), b2 = try constantString(1)
            return Compiled(type: .number) { alert, item in
                guard let m1 = latest(alert, band: b1), let m2 = latest(alert, band: b2) else { return .null }
                return .number(m1 - m2)
            }
        case "rise_rate", "fade_rate":
            let band = args.isEmpty ? nil : try constantString(0)
            let sign: Double = name == "rise_rate" ? -1 : 1
            return Compiled(type: .number) { alert, item in Value(slope(alert, band: band).map { $0 * sign }) }
        case "in_watchlist":
            let listName = try constantString(0)
            try c.expect(compiled[1], .number, "in_watchlist's radius", args[1].span)
            guard let list = c.resources.watchlists[listName] else {
                throw FilterError(.unknownField, "no watchlist named '\(listName)' (loaded: \(c.resources.watchlists.keys.sorted().joined(separator: ", ")))",
                                  offset: args[0].span.offset, length: args[0].span.length,
                                  suggestion: closest(listName, in: c.resources.watchlists.keys))
            }
            let radius = compiled[1]
            return Compiled(type: .bool) { alert, item in
                guard let r = radius.eval(alert, item).number else { return .null }
                return .bool(list.nearest(ra: alert.ra, dec: alert.dec, radius: r) != nil)
            }
        case "in_region":
            let regionName = try constantString(0)
            guard let region = c.resources.regions[regionName] else {
                throw FilterError(.unknownField, "no region named '\(regionName)' (loaded: \(c.resources.regions.keys.sorted().joined(separator: ", ")))",
                                  offset: args[0].span.offset, length: args[0].span.length,
                                  suggestion: closest(regionName, in: c.resources.regions.keys))
            }
            return Compiled(type: .bool) { alert, _ in .bool(region.contains(ra: alert.ra, dec: alert.dec)) }
        default:
            preconditionFailure("function \(name) is in the catalogue but not compiled")
        }
    }

    /// Detections of the object, this alert included, oldest first.
    static func detections(_ a: Alert) -> [Photometry] {
        var points = a.history.filter { $0.isDetection && $0.magnitude != nil }
        if let m = a.magnitude {
            points.append(Photometry(mjd: a.mjd, band: a.band, flux: a.flux, fluxError: a.fluxError, magnitude: m,
                                     magnitudeError: a.magnitudeError, limitingMagnitude: nil, isDetection: true, sourceId: a.sourceId))
        }
        return points.sorted { $0.mjd < $1.mjd }
    }

    static func latest(_ a: Alert, band: String) -> Double? {
        detections(a).last { $0.band == band }?.magnitude
    }

    /// Least-squares slope of magnitude against MJD (mag/day) over the detections (of one band).
    static func slope(_ a: Alert, band: String?) -> Double? {
        let points = detections(a).filter { band == nil || $0.band == band }
        guard points.count >= 2 else { return nil }
        let n = Double(points.count)
        let mx = points.reduce(0) { $0 + $1.mjd } / n, my = points.reduce(0) { $0 + $1.magnitude! } / n
        var sxx = 0.0, sxy = 0.0
        for p in points { sxx += (p.mjd - mx) * (p.mjd - mx); sxy += (p.mjd - mx) * (p.magnitude! - my) }
        return sxx > 0 ? sxy / sxx : nil
    }

    /// A list to aggregate: how to get its items from an alert, the kind of item, and which value of
    /// each item the aggregate reads (nil: the item itself, for count/any/all with a condition).
    struct ListSource {
        let items: @Sendable (borrowing Alert) -> [Item]
        let itemKind: Compiler.ItemKind
        let value: (@Sendable (Item) -> Value)?
        let valueType: ValueType?
    }

    static func listSource(_ e: Expression, _ c: Compiler, _ function: String) throws(FilterError) -> ListSource {
        guard case .field(let name, let span) = e else {
            throw FilterError(.type, "\(function)() needs a list such as history or prvDiaSources.psfFlux", offset: e.span.offset, length: e.span.length)
        }
        let parts = name.split(separator: ".").map(String.init)
        if parts[0] == "history" {
            let items: @Sendable (borrowing Alert) -> [Item] = { alert in alert.history.map { .point($0) } }
            guard parts.count > 1 else { return ListSource(items: items, itemKind: .history, value: nil, valueType: nil) }
            let field = parts.dropFirst().joined(separator: ".")
            guard let (t, get) = Compiler.historyFields[field] else {
                throw FilterError(.unknownField, "history items have no field '\(field)'", offset: span.offset, length: span.length,
                                  suggestion: closest(field, in: Compiler.historyFields.keys).map { "history.\($0)" })
            }
            return ListSource(items: items, itemKind: .history, value: { if case .point(let p) = $0 { get(p) } else { .null } }, valueType: t)
        }
        // The longest prefix of the path that names an array of records.
        for cut in stride(from: parts.count, through: 1, by: -1) {
            let prefix = parts[..<cut].joined(separator: ".")
            guard let path = try? FieldPath(prefix, in: c.schema), case .array(let itemSchema) = path.type,
                  case .record(let item) = itemSchema.nonNull else { continue }
            let items: @Sendable (borrowing Alert) -> [Item] = { alert in
                (alert.value(at: path).arrayValue ?? []).compactMap { $0.recordValue.map { .record($0) } }
            }
            guard cut < parts.count else { return ListSource(items: items, itemKind: .record(item), value: nil, valueType: nil) }
            let rest = parts[cut...].joined(separator: ".")
            do {
                let sub = try FieldPath(rest, in: item)
                return ListSource(items: items, itemKind: .record(item),
                                  value: { if case .record(let r) = $0 { Value(sub.value(in: r)) } else { .null } },
                                  valueType: Compiler.type(of: sub.type))
            } catch {
                throw FilterError(.unknownField, "unknown field '\(rest)' in the items of \(prefix)", offset: span.offset, length: span.length,
                                  suggestion: closest(parts[cut], in: item.fields.map(\.name)).map { "\(prefix).\($0)" })
            }
        }
        _ = try c.compile(e)  // an unknown name gets the usual message and suggestion
        throw FilterError(.type, "\(function)() needs a list such as history or prvDiaSources.psfFlux; '\(name)' is not one",
                          offset: span.offset, length: span.length)
    }

    static func aggregate(_ name: String, _ args: [Expression], _ span: Span, _ c: Compiler) throws(FilterError) -> Compiled {
        let source = try listSource(args[0], c, name)
        var condition: Compiled? = nil
        if args.count == 2 {
            var inner = c
            inner.itemKind = source.itemKind
            let cond = try inner.compile(args[1])
            try c.expect(cond, .bool, "the condition of \(name)()", args[1].span)
            condition = cond
        }
        let items = source.items, value = source.value, cond = condition
        @Sendable func selected(_ alert: borrowing Alert) -> [Item] {
            let all = items(alert)
            guard let cond else { return all }
            return all.filter { cond.eval(alert, $0).truth == true }
        }
        switch name {
        case "count":
            return Compiled(type: .number) { alert, item in
                let chosen = selected(alert)
                guard let value else { return .number(Double(chosen.count)) }
                return .number(Double(chosen.reduce(0) { $0 + (value($1) == .null ? 0 : 1) }))
            }
        case "any", "all":
            let isAny = name == "any"
            if value == nil && cond == nil {
                throw FilterError(.arity, "\(name)() needs a condition, as in \(name)(prvDiaSources, snr > 5), or a list of flags",
                                  offset: span.offset, length: span.length)
            }
            if let t = source.valueType, value != nil, t != .bool {
                throw FilterError(.type, "\(name)() of a list of \(t)s: give a condition instead", offset: args[0].span.offset, length: args[0].span.length)
            }
            return Compiled(type: .bool) { alert, item in
                let chosen = selected(alert)
                if let value {
                    let flags = chosen.map { value($0).truth ?? false }
                    return .bool(isAny ? flags.contains(true) : flags.allSatisfy { $0 })
                }
                if isAny { return .bool(!chosen.isEmpty) }
                return .bool(chosen.count == items(alert).count)
            }
        default:  // min max mean first last
            guard let value, let t = source.valueType else {
                throw FilterError(.type, "\(name)() needs a field of the list's items, as in \(name)(prvDiaSources.psfFlux)",
                                  offset: args[0].span.offset, length: args[0].span.length)
            }
            if ["min", "max", "mean"].contains(name) && t != .number {
                throw FilterError(.type, "\(name)() needs numbers, found \(t)s", offset: args[0].span.offset, length: args[0].span.length)
            }
            return Compiled(type: t) { alert, item in
                let values = selected(alert).map(value).filter { $0 != .null }
                switch name {
                case "first": return values.first ?? .null
                case "last": return values.last ?? .null
                default:
                    let xs = values.compactMap(\.number)
                    guard !xs.isEmpty else { return .null }
                    if name == "min" { return .number(xs.min()!) }
                    if name == "max" { return .number(xs.max()!) }
                    return .number(xs.reduce(0, +) / Double(xs.count))
                }
            }
        }
    }
}
