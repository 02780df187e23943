import Avro

/// A value while a filter runs. `null` follows SQL: comparisons with it are null (false at the top),
/// `IS NULL` is true, arithmetic with it is null, and so is division by zero.
package enum Value: Sendable, Equatable {
    case null
    case number(Double)
    case string(String)
    case bool(Bool)
    case list([Value])

    init(_ v: AvroValue) {
        switch v {
        case .null: self = .null
        case .boolean(let b): self = .bool(b)
        case .long(let x): self = .number(Double(x))
        case .double(let d): self = d.isNaN ? .null : .number(d)
        case .string(let s): self = .string(s)
        case .bytes: self = .null  // cutouts are not for filters
        case .array(let items): self = .list(items.map(Value.init))
        case .map, .record: self = .null
        }
    }

    init(_ d: Double?) { self = d.map { $0.isNaN ? .null : .number($0) } ?? .null }
    init(_ s: String?) { self = s.map { .string($0) } ?? .null }

    var number: Double? { if case .number(let d) = self { d } else { nil } }
    var truth: Bool? { if case .bool(let b) = self { b } else { nil } }

    package var description: String {
        switch self {
        case .null: "NULL"
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .string(let s): "'\(s)'"
        case .bool(let b): b ? "TRUE" : "FALSE"
        case .list(let l): "[" + l.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
