import Foundation

/// An Avro schema, parsed from its JSON form. Named types are resolved at parse time, so the tree is
/// self-contained (recursive schemas are refused: no alert schema needs them).
package indirect enum AvroSchema: Sendable {
    case null, boolean, int, long, float, double, bytes, string
    case record(AvroRecordSchema)
    case enumeration(name: String, symbols: [String])
    case array(AvroSchema)
    case map(AvroSchema)
    case union([AvroSchema])
    case fixed(name: String, size: Int)

    /// A short name for messages: `long`, `record diaSource`, `array<double>`.
    package var description: String {
        switch self {
        case .null: "null"
        case .boolean: "boolean"
        case .int: "int"
        case .long: "long"
        case .float: "float"
        case .double: "double"
        case .bytes: "bytes"
        case .string: "string"
        case .record(let r): "record \(r.name)"
        case .enumeration(let name, _): "enum \(name)"
        case .array(let items): "array<\(items.description)>"
        case .map(let values): "map<\(values.description)>"
        case .union(let branches): "[" + branches.map(\.description).joined(separator: ", ") + "]"
        case .fixed(let name, let size): "fixed \(name)(\(size))"
        }
    }

    /// The schema with each record it holds directly (itself, a union's branch, an array's items or a
    /// map's values; not inside other records) replaced by `replace`'s.
    package func replacingRecords(_ replace: (AvroRecordSchema) -> AvroRecordSchema) -> AvroSchema {
        switch self {
        case .record(let r): .record(replace(r))
        case .union(let branches): .union(branches.map { $0.replacingRecords(replace) })
        case .array(let items): .array(items.replacingRecords(replace))
        case .map(let values): .map(values.replacingRecords(replace))
        default: self
        }
    }

    /// The schema itself with `null` taken out of a two-branch union (`["null", T]` gives `T`).
    package var nonNull: AvroSchema {
        if case .union(let branches) = self {
            let rest = branches.filter { if case .null = $0 { false } else { true } }
            if rest.count == 1 { return rest[0] }
        }
        return self
    }
}

/// A record type: its full name and fields, with a name → index table built once.
package final class AvroRecordSchema: Sendable {
    package struct Field: Sendable {
        package let name: String
        package let type: AvroSchema
        package let doc: String?
        /// The default as a value of `type`, when the schema gives one.
        package let defaultValue: AvroValue?
        package let aliases: [String]
    }

    package let name: String
    package let doc: String?
    package let fields: [Field]
    private let indexByName: [String: Int]

    init(name: String, doc: String?, fields: [Field]) {
        self.name = name
        self.doc = doc
        self.fields = fields
        var index: [String: Int] = [:]
        for (i, f) in fields.enumerated() where index[f.name] == nil { index[f.name] = i }
        self.indexByName = index
    }

    package func index(of field: String) -> Int? { indexByName[field] }

    /// The same record with some fields left out or retyped: `type` gives a field's new type, or nil
    /// to leave it out (to derive the layout of an older or narrower writer from a reader schema).
    package func keeping(_ type: (Field) -> AvroSchema?) -> AvroRecordSchema {
        AvroRecordSchema(name: name, doc: doc, fields: fields.compactMap { f in
            type(f).map { Field(name: f.name, type: $0, doc: f.doc, defaultValue: f.defaultValue, aliases: f.aliases) }
        })
    }
    package var shortName: String { name.split(separator: ".").last.map(String.init) ?? name }
}

/// A schema that failed to parse: what and where (a JSON path inside the schema).
package struct AvroSchemaError: Error, CustomStringConvertible, Sendable {
    package let path: String
    package let reason: String
    package var description: String { "invalid Avro schema at \(path): \(reason)" }
}

extension AvroSchema {
    /// Parses a schema from JSON text. `namedTypes` holds types defined elsewhere (sibling `.avsc` files)
    /// that this schema refers to by full name.
    package static func parse(json: String, namedTypes: [String: AvroSchema] = [:]) throws -> AvroSchema {
        try parse(data: Data(json.utf8), namedTypes: namedTypes)
    }

    package static func parse(data: Data, namedTypes: [String: AvroSchema] = [:]) throws -> AvroSchema {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw AvroSchemaError(path: "$", reason: "not JSON: \(error.localizedDescription)")
        }
        var parser = SchemaParser(named: namedTypes)
        return try parser.parse(object, namespace: nil, path: "$")
    }

    /// Parses a schema and returns it with every named type it defines (for folders of `.avsc` files).
    package static func parseDefining(data: Data, namedTypes: [String: AvroSchema]) throws -> (AvroSchema, [String: AvroSchema]) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw AvroSchemaError(path: "$", reason: "not JSON: \(error.localizedDescription)")
        }
        var parser = SchemaParser(named: namedTypes)
        let schema = try parser.parse(object, namespace: nil, path: "$")
        return (schema, parser.named)
    }
}

private struct SchemaParser {
    var named: [String: AvroSchema]
    var defining: Set<String> = []

    init(named: [String: AvroSchema]) { self.named = named }

    static let primitives: [String: AvroSchema] = [
        "null": .null, "boolean": .boolean, "int": .int, "long": .long,
        "float": .float, "double": .double, "bytes": .bytes, "string": .string,
    ]

    func fullName(_ name: String, namespace: String?) -> String {
        if name.contains(".") { return name }
        if let ns = namespace, !ns.isEmpty { return ns + "." + name }
        return name
    }

    func lookup(_ name: String, namespace: String?, path: String) throws -> AvroSchema {
        if let p = Self.primitives[name] { return p }
        if let t = named[fullName(name, namespace: namespace)] ?? named[name] { return t }
        if defining.contains(fullName(name, namespace: namespace)) {
            throw AvroSchemaError(path: path, reason: "recursive type \(name) is not supported")
        }
        throw AvroSchemaError(path: path, reason: "unknown type '\(name)'")
    }

    mutating func parse(_ json: Any, namespace: String?, path: String) throws -> AvroSchema {
        if let name = json as? String { return try lookup(name, namespace: namespace, path: path) }
        if let branches = json as? [Any] {
            let parsed = try branches.enumerated().map { try parse($1, namespace: namespace, path: "\(path)[\($0)]") }
            if parsed.contains(where: { if case .union = $0 { true } else { false } }) {
                throw AvroSchemaError(path: path, reason: "a union may not contain a union")
            }
            return .union(parsed)
        }
        guard let obj = json as? [String: Any] else {
            throw AvroSchemaError(path: path, reason: "expected a type name, an object or an array")
        }
        guard let type = obj["type"] else { throw AvroSchemaError(path: path, reason: "missing \"type\"") }
        guard let typeName = type as? String else {
            // {"type": {...}} or {"type": [...]}: a wrapped type.
            return try parse(type, namespace: namespace, path: path + ".type")
        }
        switch typeName {
        case "record", "error":
            return try parseRecord(obj, namespace: namespace, path: path)
        case "enum":
            let full = try definedName(obj, namespace: namespace, path: path)
            guard let symbols = obj["symbols"] as? [String] else {
                throw AvroSchemaError(path: path, reason: "enum \(full) has no \"symbols\" list")
            }
            let t = AvroSchema.enumeration(name: full, symbols: symbols)
            named[full] = t
            return t
        case "fixed":
            let full = try definedName(obj, namespace: namespace, path: path)
            guard let size = obj["size"] as? Int, size >= 0 else {
                throw AvroSchemaError(path: path, reason: "fixed \(full) needs a non-negative \"size\"")
            }
            let t = AvroSchema.fixed(name: full, size: size)
            named[full] = t
            return t
        case "array":
            guard let items = obj["items"] else { throw AvroSchemaError(path: path, reason: "array without \"items\"") }
            return .array(try parse(items, namespace: namespace, path: path + ".items"))
        case "map":
            guard let values = obj["values"] else { throw AvroSchemaError(path: path, reason: "map without \"values\"") }
            return .map(try parse(values, namespace: namespace, path: path + ".values"))
        default:
            // A primitive written as an object, possibly with a logicalType (which decodes as its base type).
            return try lookup(typeName, namespace: namespace, path: path)
        }
    }

    func definedName(_ obj: [String: Any], namespace: String?, path: String) throws -> String {
        guard let name = obj["name"] as? String, !name.isEmpty else {
            throw AvroSchemaError(path: path, reason: "named type without \"name\"")
        }
        let ns = obj["namespace"] as? String ?? namespace
        return fullName(name, namespace: ns)
    }

    mutating func parseRecord(_ obj: [String: Any], namespace: String?, path: String) throws -> AvroSchema {
        let full = try definedName(obj, namespace: namespace, path: path)
        let ns: String? = full.contains(".") ? String(full[..<full.lastIndex(of: ".")!]) : nil
        guard let fieldList = obj["fields"] as? [Any] else {
            throw AvroSchemaError(path: path, reason: "record \(full) has no \"fields\" list")
        }
        defining.insert(full)
        var fields: [AvroRecordSchema.Field] = []
        fields.reserveCapacity(fieldList.count)
        for (i, item) in fieldList.enumerated() {
            let fpath = "\(path).fields[\(i)]"
            guard let f = item as? [String: Any], let name = f["name"] as? String else {
                throw AvroSchemaError(path: fpath, reason: "a field needs a \"name\"")
            }
            guard let ftype = f["type"] else {
                throw AvroSchemaError(path: fpath, reason: "field \(name) has no \"type\"")
            }
            let type = try parse(ftype, namespace: ns, path: "\(path).\(name)")
            var defaultValue: AvroValue? = nil
            if f.keys.contains("default") {
                // Real ZTF schemas give `null` defaults to ["float", "null"] fields, against the spec.
                // Defaults matter only in reader schemas, so a default that fits any branch is kept
                // and one that fits none is dropped rather than refusing a writer's schema.
                defaultValue = try? AvroValue(json: f["default"] as Any, schema: type, path: "\(path).\(name).default")
                if defaultValue == nil, case .union(let branches) = type {
                    defaultValue = branches.lazy.compactMap { try? AvroValue(json: f["default"] as Any, schema: $0, path: path) }.first
                }
            }
            fields.append(.init(name: name, type: type, doc: f["doc"] as? String,
                                defaultValue: defaultValue, aliases: f["aliases"] as? [String] ?? []))
        }
        defining.remove(full)
        let t = AvroSchema.record(AvroRecordSchema(name: full, doc: obj["doc"] as? String, fields: fields))
        named[full] = t
        return t
    }
}

extension AvroValue {
    /// A field default from the schema's JSON (a union default has the type of its first branch).
    init(json: Any, schema: AvroSchema, path: String) throws {
        func bad() -> AvroSchemaError { AvroSchemaError(path: path, reason: "default does not match \(schema.description)") }
        switch schema {
        case .null:
            guard json is NSNull else { throw bad() }
            self = .null
        case .boolean:
            guard let b = json as? Bool else { throw bad() }
            self = .boolean(b)
        case .int, .long:
            guard let n = json as? NSNumber else { throw bad() }
            self = .long(n.int64Value)
        case .float, .double:
            guard let n = json as? NSNumber else { throw bad() }
            self = .double(n.doubleValue)
        case .string, .enumeration:
            guard let s = json as? String else { throw bad() }
            self = .string(s)
        case .bytes, .fixed:
            guard let s = json as? String else { throw bad() }
            self = .bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        case .array(let items):
            guard let a = json as? [Any] else { throw bad() }
            self = .array(try a.map { try AvroValue(json: $0, schema: items, path: path) })
        case .map(let values):
            guard let m = json as? [String: Any] else { throw bad() }
            self = .map(try m.mapValues { try AvroValue(json: $0, schema: values, path: path) })
        case .union(let branches):
            guard let first = branches.first else { throw bad() }
            self = try AvroValue(json: json, schema: first, path: path)
        case .record(let r):
            guard let m = json as? [String: Any] else { throw bad() }
            self = .record(AvroRecord(schema: r, values: try r.fields.map { f in
                if let v = m[f.name] { return try AvroValue(json: v, schema: f.type, path: path + "." + f.name) }
                if let d = f.defaultValue { return d }
                throw bad()
            }))
        }
    }
}
