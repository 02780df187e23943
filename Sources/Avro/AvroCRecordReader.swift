import CAvro
import Glibc

/// The one place that touches Avro C for reading: it owns a writer schema, a generic value of that
/// schema (reused from record to record, so steady-state decoding does not allocate in C) and a memory
/// reader, and turns each decoded record into an `AvroValue` in the reader schema's shape.
///
/// Not thread-safe (the value is reused): each decoding task owns its own.
package final class AvroCRecordReader {
    private let schema: avro_schema_t
    private let valueClass: UnsafeMutablePointer<avro_value_iface_t>
    private var value = avro_value_t()
    private let reader: avro_reader_t
    private let program: PlanProgram
    /// Avro C's memory reader wants a non-null buffer even for empty input.
    private let emptyBuffer: UnsafeMutablePointer<CChar>

    package init(writer: AvroSchema, plan: ResolutionPlan) throws(AlertDecodingError) {
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
        self.program = PlanProgram(plan)
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
    package func read(_ bytes: UnsafeRawBufferPointer) throws(AlertDecodingError) -> AvroValue {
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(emptyBuffer)
        avro_reader_memory_set_source(reader, base, Int64(bytes.count))
        guard avro_value_read(reader, &value) == 0 else {
            throw AlertDecodingError(.dataDoesNotMatchSchema, "Avro C: \(Self.lastError())", offset: 0)
        }
        let value = self.value
        return try program.nodes.withUnsafeBufferPointer { (nodes) throws(AlertDecodingError) in
            try program.children.withUnsafeBufferPointer { (children) throws(AlertDecodingError) in
                try program.fieldSources.withUnsafeBufferPointer { (sources) throws(AlertDecodingError) in
                    try Materializer(nodes: nodes, children: children, sources: sources, program: program).value(value, 0)
                }
            }
        }
    }
}

/// Walks a decoded Avro C value with the flattened resolution plan, building Swift values.
private struct Materializer {
    let nodes: UnsafeBufferPointer<FlatNode<PlanProgram.Op>>
    let children: UnsafeBufferPointer<Int32>
    let sources: UnsafeBufferPointer<Int32>
    let program: PlanProgram

    func value(_ v: avro_value_t, _ index: Int32) throws(AlertDecodingError) -> AvroValue {
        let n = nodes[Int(index)]
        switch n.op {
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
        case .longAsInt:
            var x: Int64 = 0
            _ = citsci_avro_get_long(v, &x)
            guard x >= Int64(Int32.min) && x <= Int64(Int32.max) else {
                throw AlertDecodingError(.schemaResolution, "\(program.paths[Int(n.a)]): \(x), written as long, does not fit the reader's int", offset: 0)
            }
            return .long(x)
        case .doubleAsFloat:
            var x: Double = 0
            _ = citsci_avro_get_double(v, &x)
            guard !x.isFinite || abs(x) <= Double(Float.greatestFiniteMagnitude) else {
                throw AlertDecodingError(.schemaResolution, "\(program.paths[Int(n.a)]): \(x), written as double, does not fit the reader's float", offset: 0)
            }
            return .double(Double(Float(x)))
        case .float:
            var x: Float = 0
            _ = citsci_avro_get_float(v, &x)
            return .double(Double(x))
        case .double:
            var x: Double = 0
            _ = citsci_avro_get_double(v, &x)
            return .double(x)
        case .string:
            var p: UnsafePointer<CChar>? = nil
            var count = 0
            _ = citsci_avro_get_string(v, &p, &count)
            guard let p, count > 1 else { return .string("") }  // Avro C counts the terminating NUL
            return .string(String(decoding: UnsafeRawBufferPointer(start: p, count: count - 1), as: UTF8.self))
        case .bytesAsString:
            var p: UnsafeRawPointer? = nil
            var count = 0
            _ = citsci_avro_get_bytes(v, &p, &count)
            guard let p else { return .string("") }
            return .string(String(decoding: UnsafeRawBufferPointer(start: p, count: count), as: UTF8.self))
        case .stringAsBytes:
            var p: UnsafePointer<CChar>? = nil
            var count = 0
            _ = citsci_avro_get_string(v, &p, &count)
            guard let p, count > 1 else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: p, count: count - 1)))
        case .bytes, .fixed:
            var p: UnsafeRawPointer? = nil
            var count = 0
            if n.op == .fixed { _ = citsci_avro_get_fixed(v, &p, &count) } else { _ = citsci_avro_get_bytes(v, &p, &count) }
            guard let p, count > 0 else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: p, count: count)))
        case .enumeration:
            var i: Int32 = 0
            _ = citsci_avro_get_enum(v, &i)
            let symbols = program.enumSymbols[Int(n.a)]
            guard Int(i) < symbols.count, let symbol = symbols[Int(i)] else {
                throw AlertDecodingError(.schemaResolution, "enum symbol #\(i) at \(program.paths[Int(n.first)]) is unknown to the reader schema", offset: 0)
            }
            return .string(symbol)
        case .array:
            var count = 0
            _ = citsci_avro_get_size(v, &count)
            var items: [AvroValue] = []
            items.reserveCapacity(count)
            var child = avro_value_t()
            for i in 0..<count {
                _ = citsci_avro_get_by_index(v, i, &child, nil)
                items.append(try value(child, n.first))
            }
            return .array(items)
        case .map:
            var count = 0
            _ = citsci_avro_get_size(v, &count)
            var m: [String: AvroValue] = [:]
            m.reserveCapacity(count)
            var child = avro_value_t()
            var key: UnsafePointer<CChar>? = nil
            for i in 0..<count {
                _ = citsci_avro_get_by_index(v, i, &child, &key)
                m[key.map { String(cString: $0) } ?? ""] = try value(child, n.first)
            }
            return .map(m)
        case .record:
            var values: [AvroValue] = []
            values.reserveCapacity(Int(n.count))
            var child = avro_value_t()
            var k = Int(n.first)
            let end = k + Int(n.count)
            while k < end {
                let plan = children[k]
                if plan < 0 {
                    values.append(program.constants[Int(sources[k])])
                } else {
                    _ = citsci_avro_get_by_index(v, Int(sources[k]), &child, nil)
                    values.append(try value(child, plan))
                }
                k += 1
            }
            return .record(AvroRecord(schema: program.records[Int(n.a)], values: values))
        case .writerUnion:
            var d: Int32 = 0
            _ = citsci_avro_get_discriminant(v, &d)
            var branch = avro_value_t()
            _ = citsci_avro_get_current_branch(v, &branch)
            guard d >= 0, d < n.count, children[Int(n.first) + Int(d)] >= 0 else {
                let names = program.unionNames[Int(n.a)]
                let name = d >= 0 && Int(d) < names.count ? names[Int(d)] : "#\(d)"
                let path = program.paths[Int(sources[Int(n.first)])]
                throw AlertDecodingError(.schemaResolution, "writer union branch \(name) at \(path) has no counterpart in the reader schema", offset: 0)
            }
            return try value(branch, children[Int(n.first) + Int(d)])
        }
    }
}
