/// A token of the rule language, with its place in the expression (a UTF-8 offset).
struct Token: Equatable {
    enum Kind: Equatable {
        case number(Double)
        case string(String)
        case identifier(String)  // may contain dots: diaSource.psfFlux
        case keyword(String)     // AND OR NOT BETWEEN IN IS NULL LIKE REGEXP TRUE FALSE
        case symbol(String)      // ( ) , + - * / = == != <> < <= > >=
        case end
    }
    let kind: Kind
    let offset: Int
    let length: Int
}

enum Lexer {
    static let keywords: Set<String> = ["AND", "OR", "NOT", "BETWEEN", "IN", "IS", "NULL", "LIKE", "REGEXP", "TRUE", "FALSE"]

    static func tokens(_ text: String) throws(FilterError) -> [Token] {
        let s = Array(text.utf8)
        var out: [Token] = []
        var i = 0
        func isIdentStart(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        while i < s.count {
            let c = s[i]
            if c == 32 || c == 9 || c == 10 || c == 13 { i += 1; continue }
            if c == 45 && i + 1 < s.count && s[i + 1] == 45 {  // -- comment to the end of the line
                while i < s.count && s[i] != 10 { i += 1 }
                continue
            }
            let start = i
            if isDigit(c) || (c == 46 && i + 1 < s.count && isDigit(s[i + 1])) {
                while i < s.count && (isDigit(s[i]) || s[i] == 46) { i += 1 }
                if i < s.count && (s[i] == 101 || s[i] == 69) {  // exponent
                    var j = i + 1
                    if j < s.count && (s[j] == 43 || s[j] == 45) { j += 1 }
                    if j < s.count && isDigit(s[j]) {
                        i = j
                        while i < s.count && isDigit(s[i]) { i += 1 }
                    }
                }
                let literal = String(decoding: s[start..<i], as: UTF8.self)
                guard let v = Double(literal) else {
                    throw FilterError(.syntax, "'\(literal)' is not a number", offset: start, length: i - start)
                }
                out.append(Token(kind: .number(v), offset: start, length: i - start))
            } else if c == 39 {  // 'string' with '' for a quote
                i += 1
                var bytes: [UInt8] = []
                while true {
                    guard i < s.count else { throw FilterError(.syntax, "string is not closed with '", offset: start, length: i - start) }
                    if s[i] == 39 {
                        if i + 1 < s.count && s[i + 1] == 39 { bytes.append(39); i += 2; continue }
                        i += 1
                        break
                    }
                    bytes.append(s[i])
                    i += 1
                }
                out.append(Token(kind: .string(String(decoding: bytes, as: UTF8.self)), offset: start, length: i - start))
            } else if isIdentStart(c) {
                while i < s.count && (isIdentStart(s[i]) || isDigit(s[i]) || (s[i] == 46 && i + 1 < s.count && isIdentStart(s[i + 1]))) { i += 1 }
                let word = String(decoding: s[start..<i], as: UTF8.self)
                if keywords.contains(word.uppercased()) {
                    out.append(Token(kind: .keyword(word.uppercased()), offset: start, length: i - start))
                } else {
                    out.append(Token(kind: .identifier(word), offset: start, length: i - start))
                }
            } else {
                let two = i + 1 < s.count ? String(decoding: s[i...(i + 1)], as: UTF8.self) : ""
                if ["==", "!=", "<>", "<=", ">="].contains(two) {
                    out.append(Token(kind: .symbol(two), offset: start, length: 2))
                    i += 2
                } else if "(),+-*/=<>".utf8.contains(c) {
                    out.append(Token(kind: .symbol(String(UnicodeScalar(c))), offset: start, length: 1))
                    i += 1
                } else {
                    let ch = String(decoding: s[i..<min(i + 1, s.count)], as: UTF8.self)
                    throw FilterError(.syntax, "unexpected character '\(ch)'", offset: start, length: 1)
                }
            }
        }
        out.append(Token(kind: .end, offset: s.count, length: 0))
        return out
    }
}
