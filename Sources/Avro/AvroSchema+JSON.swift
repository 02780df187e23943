extension AvroSchema {
    /// Self-contained JSON: each named type is written in full where it first appears and by its
    /// full name afterwards, as Avro requires. This is what Avro C is given to decode with.
    package var jsonText: String {
        var out = ""
        var defined = Set<String>()
        write(to: &out, defined: &defined)
        return out
    }

    private func write(to out: inout String, defined: inout Set<String>) {
        func quoted(_ s: String) -> String { var o = ""; JSONText.appendString(s, to: &o); return o }
        switch self {
        case .null, .boolean, .int, .long, .float, .double, .bytes, .string:
            out += quoted(description)
        case .record(let r):
            if defined.contains(r.name) { out += quoted(r.name); return }
            defined.insert(r.name)
            out += "{\"type\":\"record\",\"name\":\(quoted(r.name)),\"fields\":["
            for (i, f) in r.fields.enumerated() {
                if i > 0 { out += "," }
                out += "{\"name\":\(quoted(f.name)),\"type\":"
                f.type.write(to: &out, defined: &defined)
                out += "}"
            }
            out += "]}"
        case .enumeration(let name, let symbols):
            if defined.contains(name) { out += quoted(name); return }
            defined.insert(name)
            out += "{\"type\":\"enum\",\"name\":\(quoted(name)),\"symbols\":[" + symbols.map(quoted).joined(separator: ",") + "]}"
        case .fixed(let name, let size):
            if defined.contains(name) { out += quoted(name); return }
            defined.insert(name)
            out += "{\"type\":\"fixed\",\"name\":\(quoted(name)),\"size\":\(size)}"
        case .array(let items):
            out += "{\"type\":\"array\",\"items\":"
            items.write(to: &out, defined: &defined)
            out += "}"
        case .map(let values):
            out += "{\"type\":\"map\",\"values\":"
            values.write(to: &out, defined: &defined)
            out += "}"
        case .union(let branches):
            out += "["
            for (i, b) in branches.enumerated() {
                if i > 0 { out += "," }
                b.write(to: &out, defined: &defined)
            }
            out += "]"
        }
    }
}
