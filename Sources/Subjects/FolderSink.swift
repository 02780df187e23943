import Basics
import AlertModel
import Stamps
import Filters
import State
import Foundation

/// The embedded default sink: subject sets as folders of frames with a `manifest.csv` and a
/// `set.json`, ready for `citsci push` or Zooniverse's own uploader. A set fills up to `maxSetSize`
/// subjects or `maxSetAge`, then closes and the next one opens. Each alert becomes at most one
/// subject per destination (project and workflow), whatever the number of filters it matched.
package final class FolderSink: Sendable {
    package struct Options: Sendable {
        /// At most this many subjects per set (Zooniverse takes 10,000 per batch from an approved project).
        package var maxSetSize = 1000
        /// A set older than this closes even when not full.
        package var maxSetAge: Double = 86_400

        package init(maxSetSize: Int = 1000, maxSetAge: Double = 86_400) {
            self.maxSetSize = min(max(1, maxSetSize), 10_000)
            self.maxSetAge = maxSetAge
        }
    }

    package let root: String
    package let options: Options
    package let state: StateStore

    package init(root: String, state: StateStore, options: Options = Options()) throws {
        self.root = root
        self.state = state
        self.options = options
        do { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) } catch {
            throw FolderError(path: root, reason: "cannot make the sink folder: \(FolderError.reason(of: error))")
        }
    }

    /// Whether the alert already has a subject for the destination (one a crash left unfinished does not count).
    package func contains(_ externalID: String, destination: SubjectDestination) throws -> Bool {
        try !state.database.execute("SELECT 1 FROM sink_subjects WHERE destination = ? AND external_id = ? AND pending = 0",
                                    [.text(destination.description), .text(externalID)]).isEmpty
    }

    /// The alert ids of the object's latest `limit` subjects for the destination, oldest first.
    package func previousSubjects(object: String, destination: SubjectDestination,
                                 limit: Int = SubjectContent.maxPreviousIDs) throws -> [String] {
        try state.database.execute(
            "SELECT external_id FROM sink_subjects WHERE destination = ? AND object_id = ? AND pending = 0 ORDER BY created_at DESC LIMIT ?",
            [.text(destination.description), .text(object), .integer(Int64(limit))]).compactMap { $0[0].text }.reversed()
    }

    /// Adds a subject to the open set of (`filter`, `destination`), opening one named by `pattern`
    /// (`{filter}`, `{date}`, `{n}`) when needed. Returns the set's name, or nil when the alert
    /// already had a subject there. The state store records the subject as pending in its set, then
    /// frames and the manifest row are written, then the subject is confirmed: an alert seen again
    /// after a crash in between is finished in that set (its row written once), never put in another.
    /// A set that closes drops the rows of subjects still pending. Instances sharing the store add
    /// one at a time, so two never open the same set or add the same alert.
    @discardableResult
    package func add(_ draft: SubjectDraft, filters: [String], destination: SubjectDestination, pattern: String,
                    frameColumns: Int, now: Date = Date()) throws -> String? {
        try state.exclusively(Self.lockName) {
            try addAlone(draft, filters: filters, destination: destination, pattern: pattern, frameColumns: frameColumns, now: now)
        } ?? nil
    }

    private func addAlone(_ draft: SubjectDraft, filters: [String], destination: SubjectDestination, pattern: String,
                          frameColumns: Int, now: Date) throws -> String? {
        let key: [SQLValue] = [.text(destination.description), .text(draft.externalID)]
        let set: SubjectSetFolder
        var unfinished = false
        if let recorded = try state.database.execute("SELECT set_name, pending FROM sink_subjects WHERE destination = ? AND external_id = ?", key).first {
            guard recorded[1].integer == 1, let name = recorded[0].text else { return nil }
            // A crash came after recording it: finish it where it was recorded, if that set is
            // still open once the sets due are closed (closing drops its pending subjects, and a
            // full set must not take one more).
            _ = try closeDueAlone(now: now)
            guard let folder = try state.database.execute("SELECT folder FROM sink_sets WHERE name = ? AND closed_at IS NULL",
                                                          [.text(name)]).first?[0].text else {
                try state.database.execute("DELETE FROM sink_subjects WHERE destination = ? AND external_id = ? AND pending = 1", key)
                return try addAlone(draft, filters: filters, destination: destination, pattern: pattern, frameColumns: frameColumns, now: now)
            }
            set = try SubjectSetFolder.read(folder: folder)
            unfinished = true
        } else {
            set = try openSet(filter: filters.first ?? "subjects", destination: destination, pattern: pattern,
                              frameColumns: max(frameColumns, draft.frames.count), now: now)
            try state.database.execute("""
                INSERT INTO sink_subjects (destination, external_id, set_name, object_id, filters, created_at, pending)
                VALUES (?, ?, ?, ?, ?, ?, 1)
                """, key + [.text(set.name), draft.objectID.map(SQLValue.text) ?? .null,
                            .text(";" + filters.joined(separator: ";") + ";"), .real(now.timeIntervalSince1970)])
        }
        let folder = root + "/" + set.name
        for frame in draft.frames {
            try Data(frame.bytes).write(to: URL(fileURLWithPath: folder + "/" + frame.name), options: .atomic)
        }
        let manifest = folder + "/" + Manifest.fileName
        if try !unfinished || !Manifest.read(manifest).contains(where: { $0.externalID == draft.externalID }) {
            try append(Manifest.line(draft.row, header: set.header), to: manifest)
        }
        try state.database.transaction { tx in
            try tx.execute("UPDATE sink_subjects SET pending = 0 WHERE destination = ? AND external_id = ?", key)
            try tx.execute("UPDATE sink_sets SET size = size + 1 WHERE name = ?", [.text(set.name)])
        }
        return set.name
    }

    /// Closes a set: first its subjects still pending (a crash between recording one and confirming
    /// it, its alert not seen again since) leave the manifest and the store, so a set read as closed
    /// never changes again and each of those alerts can go to another set when it comes back.
    private func close(_ name: String, folder: String, now: Date) throws {
        let pending = Set(try state.database.execute("SELECT external_id FROM sink_subjects WHERE set_name = ? AND pending = 1",
                                                     [.text(name)]).compactMap { $0[0].text })
        var set = try SubjectSetFolder.read(folder: folder)
        if !pending.isEmpty {
            let path = folder + "/" + Manifest.fileName
            let kept = try Manifest.read(path).filter { !pending.contains($0.externalID) }
            try Data(Manifest.text(header: set.header, rows: kept).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            try state.database.execute("DELETE FROM sink_subjects WHERE set_name = ? AND pending = 1", [.text(name)])
        }
        set.closedAt = now
        try set.write(folder: folder)
        try state.database.execute("UPDATE sink_sets SET closed_at = ? WHERE name = ?", [.real(now.timeIntervalSince1970), .text(name)])
    }

    /// Subjects a filter sent in the last `seconds`, counted up to `atMost` (a quota check needs no
    /// more, and a busy hour's subjects are not all read for each alert).
    package func count(filter: String, since seconds: Double, atMost: Int = .max, now: Date = Date()) throws -> Int {
        Int(try state.database.execute(
            // "filters contains ;name;", case-sensitive in SQLite and PostgreSQL alike (LIKE is not).
            """
            SELECT COUNT(*) FROM (SELECT 1 FROM sink_subjects
                WHERE length(replace(filters, ?, '')) < length(filters) AND created_at > ? LIMIT ?) AS recent
            """,
            [.text(";" + filter + ";"), .real(now.timeIntervalSince1970 - seconds), .integer(Int64(atMost))])[0][0].integer ?? 0)
    }

    /// Closes the sets that are full or too old. Returns their names.
    @discardableResult
    package func closeDue(now: Date = Date()) throws -> [String] {
        try state.exclusively(Self.lockName) { try closeDueAlone(now: now) } ?? []
    }

    private static let lockName = "folder-sink"

    private func closeDueAlone(now: Date) throws -> [String] {
        let rows = try state.database.execute(
            "SELECT name, folder FROM sink_sets WHERE closed_at IS NULL AND (size >= ? OR opened_at < ?)",
            [.integer(Int64(options.maxSetSize)), .real(now.timeIntervalSince1970 - options.maxSetAge)])
        var closed: [String] = []
        for r in rows {
            guard let name = r[0].text, let folder = r[1].text else { continue }
            try close(name, folder: folder, now: now)
            closed.append(name)
        }
        return closed
    }

    private func openSet(filter: String, destination: SubjectDestination, pattern: String, frameColumns: Int,
                         now: Date) throws -> SubjectSetFolder {
        _ = try closeDueAlone(now: now)
        let open = try state.database.execute(
            "SELECT folder, name FROM sink_sets WHERE closed_at IS NULL AND filter = ? AND destination = ? ORDER BY opened_at DESC LIMIT 1",
            [.text(filter), .text(destination.description)])
        if let folder = open.first?[0].text, let name = open.first?[1].text {
            let set = try SubjectSetFolder.read(folder: folder)
            if set.frameColumns >= frameColumns { return set }
            // A wider subject than the set was laid out for: close it and open a wider one.
            try close(name, folder: folder, now: now)
        }
        let date = Self.utcDay(now)
        var n = 1 + Int(try state.database.execute("SELECT COUNT(*) FROM sink_sets WHERE filter = ? AND destination = ? AND opened_at >= ?",
                                                   [.text(filter), .text(destination.description), .real(Self.dayStart(now))])[0][0].integer ?? 0)
        var name = Self.name(pattern, filter: filter, date: date, n: n)
        while try !state.database.execute("SELECT 1 FROM sink_sets WHERE name = ?", [.text(name)]).isEmpty {
            n += 1
            name = Self.name(pattern, filter: filter, date: date, n: n)
        }
        let folder = root + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let set = SubjectSetFolder(name: name, filter: filter, project: destination.project, workflow: destination.workflow,
                                   frameColumns: frameColumns, metadataKeys: SubjectContent.metadataKeys, openedAt: now, closedAt: nil)
        try set.write(folder: folder)
        try Data(Manifest.text(header: set.header).utf8).write(to: URL(fileURLWithPath: folder + "/" + Manifest.fileName), options: .atomic)
        try state.database.execute("INSERT INTO sink_sets (name, destination, filter, folder, opened_at) VALUES (?, ?, ?, ?, ?)",
                                   [.text(name), .text(destination.description), .text(filter), .text(folder), .real(now.timeIntervalSince1970)])
        return set
    }

    /// A set name from the filter's pattern; characters that are unsafe in a file name become '-'.
    static func name(_ pattern: String, filter: String, date: String, n: Int) -> String {
        let raw = pattern.replacingOccurrences(of: "{filter}", with: filter).replacingOccurrences(of: "{date}", with: date)
            .replacingOccurrences(of: "{n}", with: String(n))
        let safe = raw.map { c -> Character in c.isLetter || c.isNumber || "-_.".contains(c) ? c : "-" }
        let name = String(safe).trimmingCharacters(in: CharacterSet(charactersIn: "."))
        return name.isEmpty ? "set-\(n)" : name
    }

    static func utcDay(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    static func dayStart(_ date: Date) -> Double { (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 }

    /// Appends one whole line and syncs it, so a crash leaves either the line or nothing (or a torn
    /// last line, which readers skip).
    private func append(_ line: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CSVFileError(path: path, line: 0, reason: "cannot open for appending")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
        try handle.synchronize()
    }
}
