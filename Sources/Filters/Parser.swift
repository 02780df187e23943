/// Parses the rule language: SQL's WHERE clause with astronomy functions and angle units.
///
///     or      := and (OR and)*
///     and     := not (AND not)*
///     not     := NOT not | compare
///     compare := sum [(= | == | != | <> | < | <= | > | >=) sum
///                    | [NOT] BETWEEN sum AND sum | [NOT] IN ( expr, ... )
///                    | IS [NOT] NULL | [NOT] LIKE sum | [NOT] REGEXP sum]
///     sum     := product ((+ | -) product)*
///     product := unary ((* | /) unary)*
///     unary   := - unary | unit
///     unit    := primary [arcsec | arcmin | deg]
///     primary := number | 'string' | TRUE | FALSE | NULL | name | name ( [expr, ...] ) | ( expr )
struct Parser {
    private let tokens: [Token]
    private var i = 0
    static let units: Set<String> = ["arcsec", "arcmin", "deg"]

    static func parse(_ text: String) throws(FilterError) -> Expression {
        var p = Parser(tokens: try Lexer.tokens(text))
        let e = try p.or()
        guard case .end = p.peek.kind else {
            throw FilterError(.syntax, "unexpected \(p.describe(p.peek)) after a complete expression", offset: p.peek.offset, length: p.peek.length)
        }
        return e
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var peek: Token { tokens[i] }
    private mutating func next() -> Token { defer { i += 1 }; return tokens[i] }
    private func span(_ t: Token) -> Span { Span(offset: t.offset, length: t.length) }

    private func isKeyword(_ k: String, _ t: Token? = nil) -> Bool { if case .keyword(k) = (t ?? peek).kind { true } else { false } }
    private func isSymbol(_ s: String) -> Bool { if case .symbol(s) = peek.kind { true } else { false } }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .number(let v): "number \(Value.number(v).description)"
        case .string(let s): "string '\(s)'"
        case .identifier(let n): "'\(n)'"
        case .keyword(let k): k
        case .symbol(let s): "'\(s)'"
        case .end: "the end of the expression"
        }
    }

    private mutating func expect(_ symbol: String, _ context: String) throws(FilterError) {
        guard isSymbol(symbol) else {
            throw FilterError(.syntax, "expected '\(symbol)' \(context), found \(describe(peek))", offset: peek.offset, length: max(1, peek.length))
        }
        i += 1
    }

    private mutating func or() throws(FilterError) -> Expression {
        var left = try and()
        while isKeyword("OR") {
            _ = next()
            let right = try and()
            left = .binary("OR", left, right, left.span.to(right.span))
        }
        return left
    }

    private mutating func and() throws(FilterError) -> Expression {
        var left = try not()
        while isKeyword("AND") {
            _ = next()
            let right = try not()
            left = .binary("AND", left, right, left.span.to(right.span))
        }
        return left
    }

    private mutating func not() throws(FilterError) -> Expression {
        if isKeyword("NOT") {
            let t = next()
            let e = try not()
            return .unary("NOT", e, span(t).to(e.span))
        }
        return try compare()
    }

    private mutating func compare() throws(FilterError) -> Expression {
        let left = try sum()
        if case .symbol(let op) = peek.kind, ["=", "==", "!=", "<>", "<", "<=", ">", ">="].contains(op) {
            _ = next()
            let right = try sum()
            let normal = op == "==" ? "=" : op == "<>" ? "!=" : op
            return .binary(normal, left, right, left.span.to(right.span))
        }
        var negated = false
        if isKeyword("NOT"), i + 1 < tokens.count,
           isKeyword("BETWEEN", tokens[i + 1]) || isKeyword("IN", tokens[i + 1]) || isKeyword("LIKE", tokens[i + 1]) || isKeyword("REGEXP", tokens[i + 1]) {
            _ = next()
            negated = true
        }
        if isKeyword("BETWEEN") {
            _ = next()
            let lo = try sum()
            guard isKeyword("AND") else {
                throw FilterError(.syntax, "expected AND in BETWEEN ... AND ..., found \(describe(peek))", offset: peek.offset, length: max(1, peek.length))
            }
            _ = next()
            let hi = try sum()
            return .between(left, lo, hi, negated: negated, left.span.to(hi.span))
        }
        if isKeyword("IN") {
            _ = next()
            try expect("(", "after IN")
            var items: [Expression] = []
            if !isSymbol(")") {
                repeat { items.append(try or()) } while consumeComma()
            }
            let close = peek
            try expect(")", "to close the IN list")
            return .inList(left, items, negated: negated, left.span.to(span(close)))
        }
        if isKeyword("LIKE") || isKeyword("REGEXP") {
            let regex = isKeyword("REGEXP")
            _ = next()
            let pattern = try sum()
            return .like(left, pattern: pattern, regex: regex, negated: negated, left.span.to(pattern.span))
        }
        if isKeyword("IS") {
            _ = next()
            var neg = false
            if isKeyword("NOT") { _ = next(); neg = true }
            let t = peek
            guard isKeyword("NULL") else {
                throw FilterError(.syntax, "expected NULL after IS\(neg ? " NOT" : ""), found \(describe(t))", offset: t.offset, length: max(1, t.length))
            }
            _ = next()
            return .isNull(left, negated: neg, left.span.to(span(t)))
        }
        return left
    }

    private mutating func consumeComma() -> Bool {
        if isSymbol(",") { i += 1; return true }
        return false
    }

    private mutating func sum() throws(FilterError) -> Expression {
        var left = try product()
        while case .symbol(let op) = peek.kind, op == "+" || op == "-" {
            _ = next()
            let right = try product()
            left = .binary(op, left, right, left.span.to(right.span))
        }
        return left
    }

    private mutating func product() throws(FilterError) -> Expression {
        var left = try unary()
        while case .symbol(let op) = peek.kind, op == "*" || op == "/" {
            _ = next()
            let right = try unary()
            left = .binary(op, left, right, left.span.to(right.span))
        }
        return left
    }

    private mutating func unary() throws(FilterError) -> Expression {
        if isSymbol("-") {
            let t = next()
            let e = try unary()
            return .unary("-", e, span(t).to(e.span))
        }
        let e = try primary()
        if case .identifier(let u) = peek.kind, Self.units.contains(u) {
            let t = next()
            return .unit(e, u, e.span.to(span(t)))
        }
        return e
    }

    private mutating func primary() throws(FilterError) -> Expression {
        let t = next()
        switch t.kind {
        case .number(let v): return .number(v, span(t))
        case .string(let s): return .string(s, span(t))
        case .keyword("TRUE"): return .bool(true, span(t))
        case .keyword("FALSE"): return .bool(false, span(t))
        case .keyword("NULL"): return .null(span(t))
        case .identifier(let name):
            if isSymbol("(") {
                _ = next()
                var args: [Expression] = []
                if !isSymbol(")") {
                    repeat { args.append(try or()) } while consumeComma()
                }
                let close = peek
                try expect(")", "to close the arguments of \(name)")
                return .call(name, args, span(t).to(span(close)))
            }
            return .field(name, span(t))
        case .symbol("("):
            let e = try or()
            try expect(")", "to close '('")
            return e
        default:
            throw FilterError(.syntax, "expected a value, a field or a function, found \(describe(t))", offset: t.offset, length: max(1, t.length))
        }
    }
}
