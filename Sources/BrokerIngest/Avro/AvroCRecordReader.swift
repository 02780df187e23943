import CAvro
import Glibc

/// The one place that touches Avro C for reading: it owns a writer schema, a generic value of that
/// schema (reused from record to record, so steady-state decoding does not allocate in C) and a memory
/// reader, and turns each decoded record into an `AvroValue` in the reader schema's shape.
///
/// Not thread-safe (the value is reused): each decoding task owns its own.
final class AvroCRecordReader {
    private let schema: avro_schema_t
    private let valueClass: UnsafeMutablePointer<avro_value_iface_t>
    private var value = avro_value_t()
    private let reader: avro_reader_t
    private let plan: ResolutionPlan
    /// Avro C's memory reader wants a non-null buffer even for empty input.
    private let emptyBuffer: UnsafeMutablePointer<CChar>

    init(writer: AvroSchema, plan: ResolutionPlan) throws(AlertDecodingError) {
        let json = writer.jsonText
        var parsed: avro_schema_t? = nil
        let rc = json.withCString { avro_schema_from_json_length($0, strlen($0), &parsed) }
        guard rc == 0, let parsed else {
            throw AlertDecodingError(.invalidSchema, "Avro C refused the writer schema: \(Self.lastError())", offset: 0)
        }
        guard let cls = avro_generic_class_from_schema(parsed) else {
            citsci_avro_schema_decref(parsed)
            throw AlertDecodingError(.invalidSchema, "Avro C could not build a value class: \(Self.lastError())", offset: 0)
        }
        self.schema = parsed
        self.valueClass = cls
        self.plan = plan
        self.emptyBuffer = .allocate(capacity: 1)
        self.emptyBuffer.pointee = 0
        self.reader = avro_reader_memory(emptyBuffer, 0)
        avro_generic_value_new(cls, &value)
    }

    deinit {
        citsci_avro_value_decref(&value)
        avro_reader_free(reader)
        citsci_avro_iface_decref(valueClass)
        citsci_avro_schema_decref(schema)
        emptyBuffer.deallocate()
    }

    static func lastError() -> String { String(cString: avro_strerror()) }

    /// Decodes one record occupying exactly `bytes` (already checked by `BinaryValidator`).
    func read(_ bytes: UnsafeRawBufferPointer) throws(AlertDecodingError) -> AvroValue {
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(emptyBuffer)
        avro_reader_memory_set_source(reader, base, Int64(bytes.count))
        guard avro_value_read(reader, &value) == 0 else {
            throw AlertDecodingError(.dataDoesNotMatchSchema, "Avro C: \(Self.lastError())", offset: 0)
        }
        return try materialize(value, plan)
    }

    private func materialize(_ v: avro_value_t, _ plan: ResolutionPlan) throws(AlertDecodingError) -> AvroValue {
        switch plan {
        case .null:
            return .null
        case .boolean:
            var b: Int32 = 0
            _ = citsci_avro_get_boolean(v, &b)
            return .boolean(b != 0)
        case .int:
            var x: Int32 = 0
            _ = citsci_avro_get_int(v, &x)
            return .long(Int64(x))
        case .intAsDouble:
            var x: Int32 = 0
            _ = citsci_avro_get_int(v, &x)
            return .double(Double(x))
        case .long:
            var x: Int64 = 0
            _ = citsci_avro_get_long(v, &x)
            return .long(x)
        case .longAsDouble:
            var x: Int64 = 0
            _ = citsci_avro_get_long(v, &x)
            return .double(Double(x))
        case .float:
            var x: Float = 0
            _ = citsci_avro_get_float(v, &x)
            return .double(Double(x))
        case .double:
            var x: Double = 0
            _ = citsci_avro_get_double(v, &x)
            return .double(x)
        case .string, .bytesAsString:
            return .string(readString(v, isBytes: plan.isBytesAsString))
        case .bytes, .stringAsBytes, .fixed:
            var p: UnsafeRawPointer? = nil
            var n = 0
            switch plan {
            case .stringAsBytes:
                var s: UnsafePointer<CChar>? = nil
                _ = citsci_avro_get_string(v, &s, &n)
                p = UnsafeRawPointer(s)
                n = max(n - 1, 0)  // Avro C counts the terminating NUL
            case .fixed:
                _ = citsci_avro_get_fixed(v, &p, &n)
            default:
                _ = citsci_avro_get_bytes(v, &p, &n)
            }
            guard let p, n > 0 else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: p, count: n)))
        case .enumeration(let symbols, let path):
            var i: Int32 = 0
            _ = citsci_avro_get_enum(v, &i)
            guard Int(i) < symbols.count, let symbol = symbols[Int(i)] else {
                throw AlertDecodingError(.schemaResolution, "enum symbol #\(i) at \(path) is unknown to the reader schema", offset: 0)
            }
            return .string(symbol)
        case .array(let itemPlan):
            var n = 0
            _ = citsci_avro_get_size(v, &n)
            var items: [AvroValue] = []
            items.reserveCapacity(n)
            var child = avro_value_t()
            for i in 0..<n {
                _ = citsci_avro_get_by_index(v, i, &child, nil)
                items.append(try materialize(child, itemPlan))
            }
            return .array(items)
        case .map(let valuePlan):
            var n = 0
            _ = citsci_avro_get_size(v, &n)
            var m: [String: AvroValue] = [:]
            m.reserveCapacity(n)
            var child = avro_value_t()
            var key: UnsafePointer<CChar>? = nil
            for i in 0..<n {
                _ = citsci_avro_get_by_index(v, i, &child, &key)
                m[key.map { String(cString: $0) } ?? ""] = try materialize(child, valuePlan)
            }
            return .map(m)
        case .record(let schema, let sources):
            var values: [AvroValue] = []
            values.reserveCapacity(sources.count)
            var child = avro_value_t()
            for source in sources {
                switch source {
                case .writer(let index, let fieldPlan):
                    _ = citsci_avro_get_by_index(v, index, &child, nil)
                    values.append(try materialize(child, fieldPlan))
                case .constant(let c):
                    values.append(c)
                }
            }
            return .record(AvroRecord(schema: schema, values: values))
        case .writerUnion(let branches, let names, let path):
            var d: Int32 = 0
            _ = citsci_avro_get_discriminant(v, &d)
            var branch = avro_value_t()
            _ = citsci_avro_get_current_branch(v, &branch)
            guard Int(d) < branches.count, let branchPlan = branches[Int(d)] else {
                let name = Int(d) < names.count ? names[Int(d)] : "#\(d)"
                throw AlertDecodingError(.schemaResolution, "writer union branch \(name) at \(path) has no counterpart in the reader schema", offset: 0)
            }
            return try materialize(branch, branchPlan)
        }
    }

    private func readString(_ v: avro_value_t, isBytes: Bool) -> String {
        if isBytes {
            var p: UnsafeRawPointer? = nil
            var n = 0
            _ = citsci_avro_get_bytes(v, &p, &n)
            guard let p else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
        }
        var s: UnsafePointer<CChar>? = nil
        var n = 0
        _ = citsci_avro_get_string(v, &s, &n)
        guard let s, n > 1 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: s, count: n - 1), as: UTF8.self)
    }
}

extension ResolutionPlan {
    fileprivate var isBytesAsString: Bool { if case .bytesAsString = self { true } else { false } }
}
