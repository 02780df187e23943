import Foundation

/// Text already safe to put in a page. Everything that comes from outside (a filter's name, an
/// alert's field, a dead letter's reason) goes through `escape`, or `HTML(text:)`, first.
package struct HTML: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    package var raw: String

    package init(raw: String) { self.raw = raw }
    package init(stringLiteral value: String) { raw = value }
    /// `text` escaped.
    package init(text: String) { raw = HTML.escape(text) }

    package var description: String { raw }

    /// Interpolation escapes strings and numbers and takes `HTML` as it is: a value from outside
    /// cannot become markup by accident.
    package struct StringInterpolation: StringInterpolationProtocol {
        var out = ""
        package init(literalCapacity: Int, interpolationCount: Int) { out.reserveCapacity(literalCapacity * 2) }
        package mutating func appendLiteral(_ literal: String) { out += literal }
        package mutating func appendInterpolation(_ html: HTML) { out += html.raw }
        package mutating func appendInterpolation(_ html: [HTML]) { for h in html { out += h.raw } }
        package mutating func appendInterpolation(_ text: String) { out += HTML.escape(text) }
        package mutating func appendInterpolation(_ text: String?) { out += HTML.escape(text ?? "") }
        package mutating func appendInterpolation<N: Numeric>(_ number: N) { out += HTML.escape("\(number)") }
    }
    package init(stringInterpolation: StringInterpolation) { raw = stringInterpolation.out }

    /// `& < > " '` as entities: safe in element text and in quoted attribute values.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// A path segment or query value, percent-encoded (then escaped where it goes into an attribute).
    package static func urlComponent(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A number for people: thousands separated by commas, `digits` decimals.
    package static func number(_ x: Double, digits: Int = 0) -> String {
        guard x.isFinite else { return "-" }
        let text = String(format: "%.\(max(0, digits))f", abs(x))
        let parts = text.split(separator: ".", maxSplits: 1)
        var whole = ""
        for (i, ch) in parts[0].reversed().enumerated() {
            if i > 0 && i % 3 == 0 { whole.append(",") }
            whole.append(ch)
        }
        let sign = x < 0 && text.contains(where: { $0 != "0" && $0 != "." }) ? "-" : ""
        return sign + String(whole.reversed()) + (parts.count > 1 ? "." + parts[1] : "")
    }
}
