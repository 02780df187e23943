/// How to turn a value written with the writer schema into the shape of the reader schema, worked out
/// once per (writer, reader) pair by the Avro specification's resolution rules: fields matched by name
/// (or a reader alias), reader fields absent from the writer take their default, numeric promotion
/// (int → long → float → double), string ↔ bytes, and unions on either side. Beyond the
/// specification, the narrowings brokers' re-serialisations cause (Spark writes an `int` as
/// `long`, a `float` as `double`) resolve too, each value checked when read: one that does not fit
/// the reader's type is an error naming the field (and the message goes to dead letters).
///
/// Avro C has a resolver of its own, but it refuses reader fields that the writer lacks even when they
/// have defaults, and it requires record names to match, while brokers rename the top record
/// (`topLevelRecord`). So records are matched by position in the tree, not by name.
package indirect enum ResolutionPlan: Sendable {
    case null
    case boolean
    case int, intAsDouble
    case long, longAsDouble
    /// A writer `long` read as the reader's `int`: each value range-checked.
    case longAsInt(path: String)
    case float, double
    /// A writer `double` read as the reader's `float`: each finite value must fit a float.
    case doubleAsFloat(path: String)
    case string, stringAsBytes
    case bytes, bytesAsString
    case fixed(size: Int)
    /// Writer enum index → reader symbol (nil: the writer symbol is unknown to the reader).
    case enumeration([String?], path: String)
    case array(ResolutionPlan)
    case map(ResolutionPlan)
    /// The reader's record, where each of its fields comes from, and the writer's record (whose
    /// fields are read in its order: those the reader lacks are skipped).
    case record(AvroRecordSchema, [FieldSource], writer: AvroRecordSchema)
    /// Writer union: a plan per writer branch (nil: that branch has no counterpart in the reader).
    case writerUnion([ResolutionPlan?], names: [String], path: String)

    package enum FieldSource: Sendable {
        case writer(index: Int, plan: ResolutionPlan)
        case constant(AvroValue)
    }
}

package struct SchemaResolutionError: Error, CustomStringConvertible, Sendable {
    package let path: String
    package let reason: String
    package var description: String { "cannot resolve writer schema against reader schema at \(path): \(reason)" }
}

package enum SchemaResolver {
    package static func plan(writer: AvroSchema, reader: AvroSchema, path: String = "") throws(SchemaResolutionError) -> ResolutionPlan {
        if case .union(let wb) = writer {
            let plans = wb.map { try? plan(writer: $0, reader: reader, path: path) }
            if plans.allSatisfy({ $0 == nil }) {
                throw SchemaResolutionError(path: display(path), reason: "no branch of writer \(writer.description) fits reader \(reader.description)")
            }
            return .writerUnion(plans, names: wb.map(\.description), path: display(path))
        }
        if case .union(let rb) = reader {
            // First a branch of the same kind, then one the writer type promotes to (Avro spec order).
            for branch in rb where sameKind(writer, branch) {
                if let p = try? plan(writer: writer, reader: branch, path: path) { return p }
            }
            for branch in rb {
                if let p = try? plan(writer: writer, reader: branch, path: path) { return p }
            }
            throw SchemaResolutionError(path: display(path), reason: "writer \(writer.description) matches no branch of reader \(reader.description)")
        }
        switch (writer, reader) {
        case (.null, .null): return .null
        case (.boolean, .boolean): return .boolean
        case (.int, .int), (.int, .long): return .int
        case (.int, .float), (.int, .double): return .intAsDouble
        case (.long, .long): return .long
        case (.long, .float), (.long, .double): return .longAsDouble
        case (.float, .float), (.float, .double): return .float
        case (.double, .double): return .double
        case (.long, .int): return .longAsInt(path: display(path))
        case (.double, .float): return .doubleAsFloat(path: display(path))
        case (.string, .string): return .string
        case (.string, .bytes): return .stringAsBytes
        case (.bytes, .bytes): return .bytes
        case (.bytes, .string): return .bytesAsString
        case (.fixed(_, let ws), .fixed(_, let rs)):
            guard ws == rs else { throw SchemaResolutionError(path: display(path), reason: "fixed size \(ws) vs \(rs)") }
            return .fixed(size: ws)
        case (.enumeration(_, let ws), .enumeration(_, let rs)):
            let known = Set(rs)
            return .enumeration(ws.map { known.contains($0) ? $0 : nil }, path: display(path))
        case (.array(let wi), .array(let ri)):
            return .array(try plan(writer: wi, reader: ri, path: path + "[]"))
        case (.map(let wv), .map(let rv)):
            return .map(try plan(writer: wv, reader: rv, path: path + "{}"))
        case (.record(let w), .record(let r)):
            var sources: [ResolutionPlan.FieldSource] = []
            sources.reserveCapacity(r.fields.count)
            for field in r.fields {
                let fpath = path.isEmpty ? field.name : path + "." + field.name
                // By name, by a reader alias, or by a writer alias (a broker that renamed a field and
                // kept the old name as its alias).
                let wi = w.index(of: field.name) ?? field.aliases.lazy.compactMap { w.index(of: $0) }.first
                    ?? w.fields.firstIndex { $0.aliases.contains(field.name) }
                if let wi {
                    sources.append(.writer(index: wi, plan: try plan(writer: w.fields[wi].type, reader: field.type, path: fpath)))
                } else if let d = field.defaultValue {
                    sources.append(.constant(d))
                } else {
                    throw SchemaResolutionError(path: fpath, reason: "reader field is missing from the writer and has no default")
                }
            }
            return .record(r, sources, writer: w)
        default:
            throw SchemaResolutionError(path: display(path), reason: "writer \(writer.description) cannot be read as \(reader.description)")
        }
    }

    private static func display(_ path: String) -> String { path.isEmpty ? "(top record)" : path }

    private static func sameKind(_ a: AvroSchema, _ b: AvroSchema) -> Bool {
        switch (a, b) {
        case (.null, .null), (.boolean, .boolean), (.int, .int), (.long, .long), (.float, .float),
             (.double, .double), (.bytes, .bytes), (.string, .string), (.record, .record), (.enumeration, .enumeration),
             (.array, .array), (.map, .map), (.fixed, .fixed): true
        default: false
        }
    }
}
