import Basics
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
        try state.sink.contains(destination: destination.description, externalID: externalID)
    }

    /// The alert ids of the object's latest `limit` subjects for the destination, oldest first.
    package func previousSubjects(object: String, destination: SubjectDestination,
                                 limit: Int = SubjectContent.maxPreviousIDs) throws -> [String] {
        try state.sink.previousSubjects(object: object, destination: destination.description, limit: limit)
    }

    /// Adds a subject to the open set of (`filter`, `destination`), opening one named by `pattern`
    /// (`{filter}`, `{date}`, `{n}`) when needed. Returns the set's name, or nil when the alert
    /// already had a subject there. The state store records the subject as pending in its set, then
    /// frames and the manifest row are written, then the subject is confirmed: an alert seen again
    /// after a crash in between is finished in that set (its row written once), never put in another.
    /// A set that closes drops the rows of subjects still pending.
    ///
    /// Instances sharing the store add to one (filter, destination)'s sets one at a time, so two
    /// never open the same set or add the same alert, and add to other filters' sets side by side.
    @discardableResult
    package func add(_ draft: SubjectDraft, filters: [String], destination: SubjectDestination, pattern: String,
                    frameColumns: Int, now: Date = Date()) throws -> String? {
        let destinationKey = destination.description
        while true {
            // An alert a crash left pending is finished under its set's lock: that set may be of
            // another filter than the one it would go to now (the filters changed since).
            var filter = filters.first ?? "subjects"
            if let recorded = try state.sink.subject(destination: destinationKey, externalID: draft.externalID) {
                guard recorded.pending else { return nil }
                filter = try state.sink.set(named: recorded.setName)?.filter ?? filter
            }
            let outcome = try state.exclusively(Self.lockName(filter: filter, destination: destinationKey)) {
                try addAlone(draft, filters: filters, destination: destination, lockedFilter: filter, pattern: pattern,
                             frameColumns: frameColumns, now: now)
            }
            switch outcome {
            case .added(let name): return name
            case .known: return nil
            case .again, nil: continue
            }
        }
    }

    private enum Added { case added(String), known, again }

    /// `add` with the lock of (`lockedFilter`, `destination`) held; `.again` when the alert must be
    /// added under another lock (what was recorded of it changed before the lock was taken).
    private func addAlone(_ draft: SubjectDraft, filters: [String], destination: SubjectDestination, lockedFilter: String,
                          pattern: String, frameColumns: Int, now: Date) throws -> Added {
        let ledger = state.sink
        let destinationKey = destination.description
        let set: SubjectSetFolder
        var unfinished = false
        if let recorded = try ledger.subject(destination: destinationKey, externalID: draft.externalID) {
            guard recorded.pending else { return .known }
            // A crash came after recording it: finish it where it was recorded, if that set is
            // still open once the sets due are closed (closing drops its pending subjects, and a
            // full set must not take one more).
            guard let row = try ledger.set(named: recorded.setName), row.filter == lockedFilter else { return .again }
            _ = try closeDueAlone(filter: lockedFilter, destination: destinationKey, now: now)
            guard let folder = try ledger.openSetFolder(name: row.name) else {
                try ledger.forgetPending(destination: destinationKey, externalID: draft.externalID)
                return .again
            }
            set = try SubjectSetFolder.read(folder: folder)
            unfinished = true
        } else {
            guard lockedFilter == filters.first ?? "subjects" else { return .again }
            set = try openSet(filter: lockedFilter, destination: destination, pattern: pattern,
                              frameColumns: max(frameColumns, draft.frames.count), now: now)
            try ledger.recordPending(destination: destinationKey, externalID: draft.externalID, setName: set.name,
                                     objectID: draft.objectID, filters: filters, at: now)
        }
        let folder = root + "/" + set.name
        for frame in draft.frames {
            try Data(frame.bytes).write(to: URL(fileURLWithPath: folder + "/" + frame.name), options: .atomic)
        }
        let manifest = folder + "/" + Manifest.fileName
        if try !unfinished || !Manifest.read(manifest).contains(where: { $0.externalID == draft.externalID }) {
            try append(Manifest.line(draft.row, header: set.header), to: manifest)
        }
        try ledger.confirm(destination: destinationKey, externalID: draft.externalID, setName: set.name)
        return .added(set.name)
    }

    /// Closes a set: first its subjects still pending (a crash between recording one and confirming
    /// it, its alert not seen again since) leave the manifest and the store, so a set read as closed
    /// never changes again and each of those alerts can go to another set when it comes back.
    private func close(_ name: String, folder: String, now: Date) throws {
        let pending = try state.sink.pendingSubjects(setName: name)
        var set = try SubjectSetFolder.read(folder: folder)
        if !pending.isEmpty {
            let path = folder + "/" + Manifest.fileName
            let kept = try Manifest.read(path).filter { !pending.contains($0.externalID) }
            try Data(Manifest.text(header: set.header, rows: kept).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            try state.sink.dropPending(setName: name)
        }
        set.closedAt = now
        try set.write(folder: folder)
        try state.sink.markClosed(name: name, at: now)
    }

    /// Subjects a filter sent in the last `seconds`, counted up to `atMost` (a quota check needs no
    /// more, and a busy hour's subjects are not all read for each alert).
    package func count(filter: String, since seconds: Double, atMost: Int = .max, now: Date = Date()) throws -> Int {
        try state.sink.count(filter: filter, since: now.addingTimeInterval(-seconds), atMost: atMost)
    }

    /// Closes the sets that are full or too old, each under its (filter, destination)'s lock.
    /// Returns their names.
    @discardableResult
    package func closeDue(now: Date = Date()) throws -> [String] {
        var closed: [String] = []
        let due = try state.sink.setsDue(maxSize: options.maxSetSize, openedBefore: now.addingTimeInterval(-options.maxSetAge))
        for key in Set(due.map { SetKey(filter: $0.filter, destination: $0.destination) }) {
            closed += try state.exclusively(Self.lockName(filter: key.filter, destination: key.destination)) {
                try closeDueAlone(filter: key.filter, destination: key.destination, now: now)
            } ?? []
        }
        return closed
    }

    private struct SetKey: Hashable { let filter: String, destination: String }

    /// The lock of one (filter, destination)'s sets.
    private static func lockName(filter: String, destination: String) -> String { "folder-sink:\(destination):\(filter)" }

    /// Taken (inside a (filter, destination)'s lock) to name a new set: names from different
    /// filters' patterns may meet.
    private static let namingLock = "folder-sink-names"

    private func closeDueAlone(filter: String, destination: String, now: Date) throws -> [String] {
        var closed: [String] = []
        for set in try state.sink.setsDue(maxSize: options.maxSetSize, openedBefore: now.addingTimeInterval(-options.maxSetAge),
                                          of: (filter, destination)) {
            try close(set.name, folder: set.folder, now: now)
            closed.append(set.name)
        }
        return closed
    }

    private func openSet(filter: String, destination: SubjectDestination, pattern: String, frameColumns: Int,
                         now: Date) throws -> SubjectSetFolder {
        _ = try closeDueAlone(filter: filter, destination: destination.description, now: now)
        if let open = try state.sink.openSet(filter: filter, destination: destination.description) {
            let set = try SubjectSetFolder.read(folder: open.folder)
            if set.frameColumns >= frameColumns { return set }
            // A wider subject than the set was laid out for: close it and open a wider one.
            try close(open.name, folder: open.folder, now: now)
        }
        guard let set = try state.exclusively(Self.namingLock, {
            try newSet(filter: filter, destination: destination, pattern: pattern, frameColumns: frameColumns, now: now)
        }) else { preconditionFailure("a lock waited for is always taken") }
        return set
    }

    private func newSet(filter: String, destination: SubjectDestination, pattern: String, frameColumns: Int,
                        now: Date) throws -> SubjectSetFolder {
        let date = Self.utcDay(now)
        var n = 1 + (try state.sink.setsOpened(filter: filter, destination: destination.description,
                                                since: Date(timeIntervalSince1970: Self.dayStart(now))))
        var name = Self.name(pattern, filter: filter, date: date, n: n)
        while try state.sink.set(named: name) != nil {
            n += 1
            name = Self.name(pattern, filter: filter, date: date, n: n)
        }
        let folder = root + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let set = SubjectSetFolder(name: name, filter: filter, project: destination.project, workflow: destination.workflow,
                                   frameColumns: frameColumns, metadataKeys: SubjectContent.metadataKeys, openedAt: now, closedAt: nil)
        // The manifest first: `set.json` is what makes a folder a set, so a kill -9 between the two
        // writes leaves no set without its manifest (a folder with a manifest alone is ignored, and
        // its name taken again).
        try Data(Manifest.text(header: set.header).utf8).write(to: URL(fileURLWithPath: folder + "/" + Manifest.fileName), options: .atomic)
        try set.write(folder: folder)
        try state.sink.recordSet(name: name, destination: destination.description, filter: filter, folder: folder, openedAt: now)
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
