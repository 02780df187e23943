import Avro
/// A dotted path into a record (`diaSource.psfFlux`, `candidate.magpsf`, `prvDiaSources.band`),
/// checked against the reader schema and compiled to field indexes once, so that reading it from an
/// alert is a few array look-ups. A step through an array maps over its items and gives an array.
package struct FieldPath: Sendable, CustomStringConvertible {
    package let text: String
    /// The schema of the value the path reaches (nullable unions stripped).
    package let type: AvroSchema
    /// True when a step goes through an array (the value is then an array of the leaf values).
    package let crossesArray: Bool
    let steps: [Int]
    /// Where the leaf is among the record's `ScalarColumns`, for a number reached through records only.
    package let slot: Int?

    package var description: String { text }

    package struct Error: Swift.Error, CustomStringConvertible, Sendable {
        package let path: String
        /// The 0-based index of the segment that failed.
        package let segment: Int
        package let reason: String
        /// Field names that exist where the failing segment was looked up.
        package let candidates: [String]
        package var description: String { "field path '\(path)': \(reason)" }
    }

    package init(_ text: String, in schema: AvroRecordSchema) throws(FieldPath.Error) {
        var steps: [Int] = []
        var current = AvroSchema.record(schema)
        var crosses = false
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for (i, part) in parts.enumerated() {
            while case .array(let items) = current.nonNull {
                current = items
                crosses = true
            }
            guard case .record(let r) = current.nonNull else {
                throw Error(path: text, segment: i, reason: "'\(parts[..<i].joined(separator: "."))' is \(current.nonNull.description), not a record", candidates: [])
            }
            guard let index = r.index(of: part) else {
                throw Error(path: text, segment: i, reason: "no field '\(part)' in \(r.shortName)", candidates: r.fields.map(\.name))
            }
            steps.append(index)
            current = r.fields[index].type
        }
        self.text = text
        self.steps = steps
        self.type = current.nonNull
        self.crossesArray = crosses
        self.slot = crosses ? nil : ScalarColumns.slot(of: steps, in: schema)
    }

    package func value(in record: AvroRecord) -> AvroValue {
        if !crossesArray {  // the common case: records all the way down, no list to map over
            var current = record.values[steps[0]]
            var i = 1
            while i < steps.count {
                guard case .record(let r) = current else { return .null }
                current = r.values[steps[i]]
                i += 1
            }
            return current
        }
        return Self.walk(.record(record), steps[...])
    }

    /// A numeric leaf as a `Double`, NaN when null or absent, without building the value on the way
    /// (the filters' hot path). Only for paths that cross no array.
    package func number(in record: AvroRecord) -> Double {
        Self.number(record, steps, 0)
    }

    private static func number(_ record: borrowing AvroRecord, _ steps: [Int], _ i: Int) -> Double {
        switch record.values[steps[i]] {
        case .double(let d): return i == steps.count - 1 ? d : .nan
        case .long(let v): return i == steps.count - 1 ? Double(v) : .nan
        case .record(let r): return i < steps.count - 1 ? number(r, steps, i + 1) : .nan
        default: return .nan
        }
    }

    private static func walk(_ value: AvroValue, _ steps: ArraySlice<Int>) -> AvroValue {
        guard let first = steps.first else { return value }
        switch value {
        case .record(let r):
            return walk(r.values[first], steps.dropFirst())
        case .array(let items):
            return .array(items.map { walk($0, steps) })
        default:
            return .null
        }
    }
}
