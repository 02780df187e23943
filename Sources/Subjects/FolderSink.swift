import Basics
import State
import Foundation
import Synchronization

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
    /// The lane this sink last filled for each (filter, destination): tried first next time, so an
    /// instance keeps to its own sets while another fills theirs.
    private let preferredLanes = Mutex<[SetKey: Int]>([:])

    /// Lanes a (filter, destination) has: how many instances fill its sets side by side.
    static let lanes = 8

    package init(root: String, state: StateStore, options: Options = Options()) throws {
        self.root = root
        self.state = state
        self.options = options
        do { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) } catch {
            throw FolderError(path: root, reason: "cannot make the sink folder: \(FolderError.reason(of: error))")
        }
    }

    /// What a batch's new subjects need of those before them: whether an alert already has a
    /// subject at a destination (one a crash left unfinished does not count) and an object's
    /// latest subjects there. Read for the whole batch in a few queries.
    package struct History: Sendable {
        let subjects: [SinkLedger.Key: (setName: String, pending: Bool)]
        let previous: [SinkLedger.ObjectKey: [String]]

        /// Whether the alert already has a (confirmed) subject for the destination.
        package func contains(_ externalID: String, destination: SubjectDestination) -> Bool {
            subjects[SinkLedger.Key(destination: destination.description, externalID: externalID)].map { !$0.pending } ?? false
        }

        /// The alert ids of the object's latest subjects for the destination, oldest first.
        package func previousSubjects(object: String, destination: SubjectDestination) -> [String] {
            previous[SinkLedger.ObjectKey(destination: destination.description, objectID: object)] ?? []
        }
    }

    /// The history of these alerts (by external id) and objects at these destinations, keeping
    /// each object's latest `limit` subjects.
    package func history(alerts: [(externalID: String, destination: SubjectDestination)],
                         objects: [(objectID: String, destination: SubjectDestination)],
                         limit: Int = SubjectContent.maxPreviousIDs) throws -> History {
        History(subjects: try state.sink.subjects(alerts.map { SinkLedger.Key(destination: $0.destination.description, externalID: $0.externalID) }),
                previous: try state.sink.previousSubjects(objects.map { SinkLedger.ObjectKey(destination: $0.destination.description, objectID: $0.objectID) },
                                                          limit: limit))
    }

    /// A subject to add: its draft, the filters that sent it, where it goes, how its set is named
    /// (`{filter}`, `{date}`, `{n}`) and how many frame columns its set needs.
    package struct NewSubject: Sendable {
        package var draft: SubjectDraft
        package var filters: [String]
        package var destination: SubjectDestination
        package var pattern: String
        package var frameColumns: Int

        package init(_ draft: SubjectDraft, filters: [String], destination: SubjectDestination, pattern: String, frameColumns: Int) {
            self.draft = draft
            self.filters = filters
            self.destination = destination
            self.pattern = pattern
            self.frameColumns = max(frameColumns, draft.frames.count)
        }

        /// The (filter, destination) whose sets it goes to when new.
        var key: SetKey { SetKey(filter: filters.first ?? "subjects", destination: destination.description) }
    }

    /// Adds one subject: `add([subject])`.
    @discardableResult
    package func add(_ draft: SubjectDraft, filters: [String], destination: SubjectDestination, pattern: String,
                    frameColumns: Int, now: Date = Date()) throws -> String? {
        try add([NewSubject(draft, filters: filters, destination: destination, pattern: pattern, frameColumns: frameColumns)], now: now)[0]
    }

    /// Adds subjects, each to the open set of its first filter and destination, opening sets as
    /// they fill. Returns each one's set, or nil when its alert already had a subject there.
    ///
    /// Durable in three steps whatever their number (group commit): the state store records them
    /// all as pending in their sets (one synced write), their frames and manifest rows are written
    /// (one sync per manifest), and the store confirms them (one synced write). An alert seen again
    /// after a crash in between is finished in the set it was recorded in (its row written once),
    /// never put in another; a set that closes drops the rows of subjects still pending.
    ///
    /// Instances sharing the store never add to one set at the same time, nor open the same set or
    /// add the same alert: each (filter, destination) has lanes, each with its own open set and
    /// lock, and an instance takes the first free lane (its last one first), waiting only when
    /// every lane is taken. One instance always finds its lane free and fills one set at a time.
    ///
    /// `history`, when the caller read it for these subjects, saves reading where they were recorded
    /// again before taking the locks (it only routes them: what counts is read again under the locks).
    package func add(_ subjects: [NewSubject], history: History? = nil, now: Date = Date()) throws -> [String?] {
        var results = [String?](repeating: nil, count: subjects.count)
        var todo = Array(subjects.indices)
        var known = history?.subjects
        while !todo.isEmpty {
            // An alert a crash left pending is finished in the lane of the set it was recorded in:
            // that set may be of another filter than the one it would go to now (the filters changed since).
            let recorded = try known ?? state.sink.subjects(todo.map { Self.ledgerKey(subjects[$0]) })
            known = nil  // a subject added again: what was recorded of it changed
            var keys: [Int: SetKey] = [:]
            var required: [SetKey: Set<Int>] = [:]  // lanes recovered subjects were recorded in
            for i in todo {
                var key = subjects[i].key
                if let recorded = recorded[Self.ledgerKey(subjects[i])], recorded.pending,
                   let set = try state.sink.set(named: recorded.setName) {
                    key.filter = set.filter
                    required[key, default: []].insert(set.lane)
                }
                keys[i] = key
                if required[key] == nil { required[key] = [] }
            }
            let needs = required.sorted { ($0.key.destination, $0.key.filter) < ($1.key.destination, $1.key.filter) }
            var again: [Int] = []
            // A few (filter, destination)s at a time: on PostgreSQL each lock held keeps a connection
            // of the pool, and a batch for as many filters as the pool has connections would wait
            // for ever for one to write with.
            for start in stride(from: 0, to: needs.count, by: Self.keysAtOnce) {
                let part = needs[start..<min(start + Self.keysAtOnce, needs.count)]
                let inPart = Set(part.map(\.key))
                let mine = todo.filter { inPart.contains(keys[$0]!) }
                again += try withLanes(part, taken: [:]) { lanes in
                    try addLocked(subjects, mine.map { ($0, keys[$0]!) }, lanes: lanes, into: &results, now: now)
                }
            }
            todo = again
        }
        return results
    }

    /// (filter, destination)s whose locks a batch holds at once (their subjects are written with
    /// one group commit; a batch for more takes one commit per this many).
    static let keysAtOnce = 4

    private static func ledgerKey(_ s: NewSubject) -> SinkLedger.Key {
        .init(destination: s.destination.description, externalID: s.draft.externalID)
    }

    /// Runs `body` holding, for each (filter, destination) in order, the lanes its recovered subjects
    /// need or else one lane for its new subjects, and tells it the lanes held. Every wait is for a
    /// lock after (in one order: destination, filter, lane) every lock the waiter holds, so no two
    /// instances ever wait for each other in a circle.
    private func withLanes<T>(_ needs: ArraySlice<(key: SetKey, value: Set<Int>)>, taken: [SetKey: [Int]],
                              _ body: ([SetKey: [Int]]) throws -> T) throws -> T {
        guard let (key, recovered) = needs.first else { return try body(taken) }
        // With this key's lanes held, the rest.
        func rest(holding lanes: [Int]) throws -> T {
            var held = taken
            held[key] = lanes
            return try withLanes(needs.dropFirst(), taken: held, body)
        }
        if !recovered.isEmpty {
            let lanes = recovered.sorted()
            return try withLocks(lanes.map { Self.lockName(filter: key.filter, destination: key.destination, lane: $0) }[...]) {
                try rest(holding: lanes)
            }
        }
        let preferred = preferredLanes.withLock { $0[key] ?? 0 }
        for lane in [preferred] + (0..<Self.lanes).filter({ $0 != preferred }) {
            let done: T? = try state.exclusively(Self.lockName(filter: key.filter, destination: key.destination, lane: lane), wait: false) {
                preferredLanes.withLock { $0[key] = lane }
                return try rest(holding: [lane])
            }
            if let done { return done }
        }
        return try withLocks([Self.lockName(filter: key.filter, destination: key.destination, lane: preferred)][...]) {
            try rest(holding: [preferred])
        }
    }

    /// Runs `body` holding every lock named, taken in the order given.
    private func withLocks<T>(_ names: ArraySlice<String>, _ body: () throws -> T) throws -> T {
        guard let first = names.first else { return try body() }
        guard let value = try state.exclusively(first, { try withLocks(names.dropFirst(), body) }) else {
            preconditionFailure("a lock waited for is always taken")
        }
        return value
    }

    /// `add` with the locks of the subjects' (filter, destination) lanes held (new subjects go to
    /// the first); returns the subjects to add again under other locks (what was recorded of them
    /// changed before the locks were taken).
    private func addLocked(_ subjects: [NewSubject], _ todo: [(index: Int, key: SetKey)], lanes: [SetKey: [Int]],
                           into results: inout [String?], now: Date) throws -> [Int] {
        let ledger = state.sink
        // The sets due (full or old) close first: that drops their pending subjects, which then go
        // to new sets.
        for (key, held) in lanes {
            for lane in held { _ = try closeDueAlone(filter: key.filter, destination: key.destination, lane: lane, now: now) }
        }

        var again: [Int] = []
        var placed: [(index: Int, set: SubjectSetFolder, unfinished: Bool)] = []
        var pending: [SinkLedger.PendingSubject] = []
        var current: [SetKey: (set: SubjectSetFolder, size: Int)] = [:]  // where new subjects of a key go, its size before
        var added: [String: Int] = [:]  // subjects this batch puts in each set
        var closeAfter: [SetKey: [String]] = [:]  // sets this batch filled or outgrew
        var taken = Set<String>()  // destination and alert of each subject placed
        // Those a crash left pending first: their sets' room goes to them before new subjects.
        let found = try ledger.subjects(todo.map { Self.ledgerKey(subjects[$0.index]) })
        let recorded = todo.map { found[Self.ledgerKey(subjects[$0.index])] }
        let order = todo.indices.filter { recorded[$0] != nil } + todo.indices.filter { recorded[$0] == nil }
        for n in order {
            let (i, key) = todo[n]
            let s = subjects[i]
            let destination = s.destination.description
            guard taken.insert(destination + "\n" + s.draft.externalID).inserted else { continue }  // twice in one batch
            if let recorded = recorded[n] {
                guard recorded.pending else { continue }
                // A crash came after recording it: finish it where it was recorded, if that set is still open.
                guard let row = try ledger.set(named: recorded.setName), row.filter == key.filter,
                      lanes[key]?.contains(row.lane) == true else { again.append(i); continue }
                if let folder = try ledger.openSetFolder(name: row.name) {
                    placed.append((i, try SubjectSetFolder.read(folder: folder), true))
                    added[row.name, default: 0] += 1
                    continue
                }
                try ledger.forgetPending(destination: destination, externalID: s.draft.externalID)
            }
            guard key == s.key, let lane = lanes[key]?.first else { again.append(i); continue }
            var target = try current[key] ?? openSet(key, lane: lane, destination: s.destination, pattern: s.pattern,
                                                     frameColumns: s.frameColumns, now: now)
            if target.set.frameColumns < s.frameColumns || target.size + added[target.set.name, default: 0] >= options.maxSetSize {
                // Full, or laid out for narrower subjects: it closes once this batch's rows are in.
                closeAfter[key, default: []].append(target.set.name)
                target = (try newSet(key, lane: lane, destination: s.destination, pattern: s.pattern, frameColumns: s.frameColumns, now: now), 0)
            }
            current[key] = target
            added[target.set.name, default: 0] += 1
            placed.append((i, target.set, false))
            pending.append(.init(destination: destination, externalID: s.draft.externalID, setName: target.set.name,
                                 objectID: s.draft.objectID, filters: s.filters))
        }
        try ledger.recordPending(pending, at: now)

        // Frames, synced together, then each manifest's new rows in one write and one sync.
        var rows: [String: (folder: String, lines: String)] = [:]
        var written: [String: Set<String>] = [:]  // a set's manifest ids, read once when finishing a crash's subjects
        var frames = FrameFiles()
        for (i, set, unfinished) in placed {
            let draft = subjects[i].draft
            let folder = root + "/" + set.name
            for frame in draft.frames { try frames.write(frame.bytes, to: folder + "/" + frame.name) }
            if unfinished {
                if written[set.name] == nil { written[set.name] = Set(try Manifest.read(folder + "/" + Manifest.fileName).map(\.externalID)) }
                if written[set.name]!.contains(draft.externalID) { continue }
            }
            rows[set.name, default: (folder, "")].lines += Manifest.line(draft.row, header: set.header)
        }
        try frames.sync(folder: root)
        for (_, manifest) in rows.sorted(by: { $0.key < $1.key }) {
            try append(manifest.lines, to: manifest.folder + "/" + Manifest.fileName)
        }
        try ledger.confirm(placed.map { (subjects[$0.index].destination.description, subjects[$0.index].draft.externalID, $0.set.name) })
        for (i, set, _) in placed { results[i] = set.name }

        for (key, names) in closeAfter {
            for name in names { if let folder = try ledger.openSetFolder(name: name) { try close(name, folder: folder, now: now) } }
            for lane in lanes[key] ?? [] { _ = try closeDueAlone(filter: key.filter, destination: key.destination, lane: lane, now: now) }
        }
        return again
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

    /// Closes the sets that are full or too old, each under its lane's lock. A lane someone holds
    /// is left to them (adding to a lane closes its due sets first), so a sink never takes another
    /// lane for want of its own. Returns their names.
    @discardableResult
    package func closeDue(now: Date = Date()) throws -> [String] {
        var closed: [String] = []
        let due = try state.sink.setsDue(maxSize: options.maxSetSize, openedBefore: now.addingTimeInterval(-options.maxSetAge))
        for set in Set(due.map { SetLane(filter: $0.filter, destination: $0.destination, lane: $0.lane) }) {
            closed += try state.exclusively(Self.lockName(filter: set.filter, destination: set.destination, lane: set.lane), wait: false) {
                try closeDueAlone(filter: set.filter, destination: set.destination, lane: set.lane, now: now)
            } ?? []
        }
        return closed
    }

    struct SetKey: Hashable { var filter: String, destination: String }
    private struct SetLane: Hashable { var filter: String, destination: String, lane: Int }

    /// The lock of one lane of a (filter, destination)'s sets (lane 0's is the name the sets' one
    /// lock had before lanes).
    static func lockName(filter: String, destination: String, lane: Int) -> String {
        "folder-sink:\(destination):\(filter)" + (lane == 0 ? "" : ":\(lane)")
    }

    /// Taken (inside a (filter, destination)'s lock) to name a new set: names from different
    /// filters' patterns may meet.
    private static let namingLock = "folder-sink-names"

    private func closeDueAlone(filter: String, destination: String, lane: Int, now: Date) throws -> [String] {
        var closed: [String] = []
        for set in try state.sink.setsDue(maxSize: options.maxSetSize, openedBefore: now.addingTimeInterval(-options.maxSetAge),
                                          of: (filter, destination, lane)) {
            try close(set.name, folder: set.folder, now: now)
            closed.append(set.name)
        }
        return closed
    }

    /// The newest open set of the key's lane and its size; a new one when there is none.
    private func openSet(_ key: SetKey, lane: Int, destination: SubjectDestination, pattern: String, frameColumns: Int,
                         now: Date) throws -> (set: SubjectSetFolder, size: Int) {
        if let open = try state.sink.openSet(filter: key.filter, destination: key.destination, lane: lane) {
            return (try SubjectSetFolder.read(folder: open.folder), open.size)
        }
        return (try newSet(key, lane: lane, destination: destination, pattern: pattern, frameColumns: frameColumns, now: now), 0)
    }

    /// Opens a new set for the key; named under a lock of its own, since names from different
    /// filters' patterns may meet.
    private func newSet(_ key: SetKey, lane: Int, destination: SubjectDestination, pattern: String, frameColumns: Int,
                        now: Date) throws -> SubjectSetFolder {
        try withLocks([Self.namingLock][...]) {
            try newSetNamed(filter: key.filter, lane: lane, destination: destination, pattern: pattern, frameColumns: frameColumns, now: now)
        }
    }

    private func newSetNamed(filter: String, lane: Int, destination: SubjectDestination, pattern: String, frameColumns: Int,
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
        try state.sink.recordSet(name: name, destination: destination.description, filter: filter, folder: folder, openedAt: now, lane: lane)
        return set
    }

    /// A set name from the filter's pattern; characters that are unsafe in a file name become '-'.
    /// A pattern without `{n}` gets `-n` after its first set (each set needs a name of its own).
    static func name(_ pattern: String, filter: String, date: String, n: Int) -> String {
        var raw = pattern.replacingOccurrences(of: "{filter}", with: filter).replacingOccurrences(of: "{date}", with: date)
        if raw.contains("{n}") {
            raw = raw.replacingOccurrences(of: "{n}", with: String(n))
        } else if n > 1 {
            raw += "-\(n)"
        }
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

    /// Appends whole lines and syncs them, so a crash leaves the lines, none of them, or whole lines
    /// then a torn last one (which readers skip). A torn line from before is cut off first (its
    /// subject was never confirmed, and its row is written again when its alert comes back), so the
    /// new lines never continue it.
    private func append(_ lines: String, to path: String) throws {
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw CSVFileError(path: path, line: 0, reason: "cannot open for appending")
        }
        defer { try? handle.close() }
        let end = try handle.seekToEnd()
        if end > 0 {
            try handle.seek(toOffset: end - 1)
            if try handle.read(upToCount: 1) != Data([0x0A]) {
                try handle.seek(toOffset: 0)
                let whole = try handle.readToEnd() ?? Data()
                try handle.truncate(atOffset: UInt64(whole.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0))
                try handle.seekToEnd()
            }
        }
        try handle.write(contentsOf: Data(lines.utf8))
        try handle.synchronize()
    }
}
