/// The parsed rule, before checking: every node keeps its place in the text for messages.
indirect enum Expression: Sendable {
    case number(Double, Span)
    case string(String, Span)
    case bool(Bool, Span)
    case null(Span)
    case field(String, Span)
    case unary(String, Expression, Span)              // "-", "NOT"
    case binary(String, Expression, Expression, Span) // + - * / = != < <= > >= AND OR
    case between(Expression, Expression, Expression, negated: Bool, Span)
    case inList(Expression, [Expression], negated: Bool, Span)
    case isNull(Expression, negated: Bool, Span)
    case like(Expression, pattern: Expression, regex: Bool, negated: Bool, Span)
    case call(String, [Expression], Span)
    case unit(Expression, String, Span)               // 2 arcsec

    var span: Span {
        switch self {
        case .number(_, let s), .string(_, let s), .bool(_, let s), .null(let s), .field(_, let s), .unary(_, _, let s),
             .binary(_, _, _, let s), .between(_, _, _, _, let s), .inList(_, _, _, let s), .isNull(_, _, let s),
             .like(_, _, _, _, let s), .call(_, _, let s), .unit(_, _, let s): s
        }
    }

    /// The tree, for `citsci filter explain`.
    func tree(_ indent: String = "") -> String {
        func line(_ t: String) -> String { indent + t + "\n" }
        let next = indent + "  "
        switch self {
        case .number(let v, _): return line("number \(Value.number(v).description)")
        case .string(let v, _): return line("string '\(v)'")
        case .bool(let v, _): return line(v ? "TRUE" : "FALSE")
        case .null: return line("NULL")
        case .field(let name, _): return line("field \(name)")
        case .unary(let op, let e, _): return line(op) + e.tree(next)
        case .binary(let op, let a, let b, _): return line(op) + a.tree(next) + b.tree(next)
        case .between(let e, let lo, let hi, let neg, _): return line(neg ? "NOT BETWEEN" : "BETWEEN") + e.tree(next) + lo.tree(next) + hi.tree(next)
        case .inList(let e, let list, let neg, _): return line(neg ? "NOT IN" : "IN") + e.tree(next) + list.map { $0.tree(next + "  ") }.joined()
        case .isNull(let e, let neg, _): return line(neg ? "IS NOT NULL" : "IS NULL") + e.tree(next)
        case .like(let e, let p, let regex, let neg, _): return line((neg ? "NOT " : "") + (regex ? "REGEXP" : "LIKE")) + e.tree(next) + p.tree(next)
        case .call(let name, let args, _): return line("\(name)()") + args.map { $0.tree(next) }.joined()
        case .unit(let e, let u, _): return line("in \(u)") + e.tree(next)
        }
    }
}

/// A range of the expression's text (UTF-8 offsets).
struct Span: Sendable, Equatable {
    let offset: Int
    let length: Int
    func to(_ end: Span) -> Span { Span(offset: offset, length: max(length, end.offset + end.length - offset)) }
}
