import Foundation

/// A bad line in a CSV file (a manifest, a classification export): where and why.
package struct CSVFileError: Error, CustomStringConvertible, Sendable {
    package let path: String
    package let line: Int
    package let reason: String
    package var description: String { "\(path):\(line): \(reason)" }
    package init(path: String, line: Int, reason: String) { self.path = path; self.line = line; self.reason = reason }
}

/// RFC 4180 CSV, as Zooniverse's manifests and exports are written: quoted cells may hold commas,
/// quotes (doubled) and line breaks; CRLF or LF line ends; a leading byte-order mark is ignored.
package enum CSV {
    /// RFC 4180 records with the line each starts on.
    package static func records(_ text: String, path: String) throws(CSVFileError) -> [(line: Int, cells: [String])] {
        var records: [(Int, [String])] = []
        var cells: [String] = []
        var cell = ""
        var quoted = false, wasQuoted = false
        var line = 1, start = 1
        var chars = (text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { cell.append("\"") } else { quoted = false; pending = n }
                    } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    cell.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard cell.isEmpty, !wasQuoted else { throw CSVFileError(path: path, line: line, reason: "a quote inside an unquoted cell") }
                quoted = true; wasQuoted = true
            case ",":
                cells.append(cell); cell = ""; wasQuoted = false
            case "\r\n", "\n":
                cells.append(cell); cell = ""; wasQuoted = false
                if !(cells.count == 1 && cells[0].isEmpty) { records.append((start, cells)) }
                cells = []
                line += 1
                start = line
            case "\r":
                continue
            default:
                cell.append(c)
            }
        }
        if quoted { throw CSVFileError(path: path, line: start, reason: "a quoted cell is not closed") }
        if !cell.isEmpty || !cells.isEmpty { cells.append(cell); records.append((start, cells)) }
        return records
    }
}
