import Avro
/// Every number of a record that is not inside an array (its own numeric fields and those of its
/// nested records, depth first in schema order) as one flat array, NaN for null. An alert's is
/// filled once when it is decoded, so that a filter reading `candidate.magpsf` reads one array
/// element: no walk through nested values and no reference counting, per alert and per rule.
/// A position depends on the reader schema alone, so a `FieldPath` knows its slot when compiled.
package enum ScalarColumns {
    /// Nested records deeper than this are left out (a recursive schema would never end).
    static let maxDepth = 8

    /// How many numbers a record of `schema` has outside arrays.
    package static func width(of schema: AvroRecordSchema) -> Int { width(schema, depth: 0) }

    /// The numbers of `record`, in slot order, with a plan made for this one call (for tools and
    /// tests; the decoder keeps a `Plan` per reader schema).
    package static func values(of record: AvroRecord) -> [Double] { Plan(record.schema).values(of: record) }

    /// Where the numbers of a record of one schema are, worked out once: per alert, filling the
    /// columns is then a walk over values only (no schema fields retained and released per alert,
    /// which made half of the decoding time).
    package final class Plan: Sendable {
        enum Step: Sendable {
            case number(Int)
            case record(Int, Plan)
        }
        let schema: AvroRecordSchema
        let steps: [Step]
        /// How many numbers a record of the schema has outside arrays.
        package let width: Int

        package convenience init(_ schema: AvroRecordSchema) { self.init(schema, depth: 0) }

        private init(_ schema: AvroRecordSchema, depth: Int) {
            self.schema = schema
            var steps: [Step] = []
            for (i, field) in schema.fields.enumerated() {
                let t = field.type.nonNull
                if ScalarColumns.isNumber(t) {
                    steps.append(.number(i))
                } else if case .record(let sub) = t, depth + 1 < ScalarColumns.maxDepth {
                    steps.append(.record(i, Plan(sub, depth: depth + 1)))
                }
            }
            self.steps = steps
            width = steps.reduce(0) { n, step in
                switch step {
                case .number: n + 1
                case .record(_, let sub): n + sub.width
                }
            }
        }

        /// The numbers of `record` (of this plan's schema), in slot order.
        package func values(of record: AvroRecord) -> [Double] {
            guard record.schema === schema else { return ScalarColumns.values(of: record) }
            var out: [Double] = []
            out.reserveCapacity(width)
            fill(record.values, into: &out)
            return out
        }

        private func fill(_ values: [AvroValue], into out: inout [Double]) {
            for step in steps {
                switch step {
                case .number(let i):
                    out.append(values[i].doubleValue ?? .nan)
                case .record(let i, let sub):
                    if case .record(let r) = values[i] {
                        sub.fill(r.values, into: &out)
                    } else {
                        out.append(contentsOf: repeatElement(Double.nan, count: sub.width))
                    }
                }
            }
        }
    }

    /// The slot of the numeric leaf at `steps` (field indexes from `schema`), nil for a leaf that is
    /// not a number or a path through anything but records.
    static func slot(of steps: [Int], in schema: AvroRecordSchema) -> Int? {
        var base = 0
        var record = schema
        for (depth, i) in steps.enumerated() {
            for j in 0..<i { base += width(record.fields[j].type, depth: depth) }
            let t = record.fields[i].type.nonNull
            if depth == steps.count - 1 { return isNumber(t) ? base : nil }
            guard case .record(let next) = t, depth + 1 < maxDepth else { return nil }
            record = next
        }
        return nil
    }

    static func isNumber(_ t: AvroSchema) -> Bool {
        switch t {
        case .int, .long, .float, .double: true
        default: false
        }
    }

    /// How many slots a field of type `t` takes in a record at `depth`.
    private static func width(_ t: AvroSchema, depth: Int) -> Int {
        let t = t.nonNull
        if isNumber(t) { return 1 }
        if case .record(let r) = t, depth + 1 < maxDepth { return width(r, depth: depth + 1) }
        return 0
    }

    private static func width(_ r: AvroRecordSchema, depth: Int) -> Int {
        r.fields.reduce(0) { $0 + width($1.type, depth: depth) }
    }
}
