import Basics
import State
import Subjects
import Foundation
import Synchronization

/// Pushes subject sets from the folder sink to a Zooniverse project, exactly once per subject and
/// within the data-rights gates, resuming wherever a previous run stopped.
///
/// Each subject moves ready → creating → created → uploaded → linked, and the state store records
/// each step before and after its remote call. A subject is created linked to the project's
/// staging set (`citsci-staging`, shown on no workflow), so volunteers never see a subject whose
/// frames are still going up, and so a create whose answer was lost is found again by its
/// `#alert_id` instead of being made twice. Its frames go to their signed URLs (fresh ones are
/// asked for when they expire); then it joins its real set, 100 at a time, and leaves staging.
package final class ZooniversePush: Sendable {
    package struct Options: Sendable {
        /// Project id or slug.
        package var project: String
        /// Overrides the workflow each set.json names.
        package var workflow: String?
        /// Approved by Rubin's data-rights panel: 10,000 subjects per batch instead of 100 in all.
        package var approved = false
        package var unapprovedLimit = 100
        package var batchLimit = 10_000
        /// No new set while this many of the project's sets are incomplete on their workflows.
        package var maxIncompleteSets = 3
        /// Subjects worked on at once (uploads dominate; the official client uses 5).
        package var concurrency = 4
        /// Rounds over subjects whose remote call failed before giving up until the next push.
        package var rounds = 3
        package var stagingSetName = "citsci-staging"

        package init(project: String) { self.project = project }
    }

    package struct Report: Sendable, CustomStringConvertible {
        package var imported = 0
        package var pushed = 0
        package var alreadyDone = 0
        package var linked = 0
        package var setsCreated: [String] = []
        /// Sets found on Zooniverse by name, made before this state store knew of them.
        package var setsAdopted: [String] = []
        package var held: [String: Int] = [:]
        package var failed: [String: String] = [:]
        package var retries = 0

        package var description: String {
            var lines = ["\(pushed) subjects pushed (\(alreadyDone) done before, \(linked) linked to their sets this run, \(imported) new in the manifests)"]
            if !setsCreated.isEmpty { lines.append("subject sets created: " + setsCreated.joined(separator: ", ")) }
            if !setsAdopted.isEmpty { lines.append("subject sets found on Zooniverse and adopted: " + setsAdopted.joined(separator: ", ")) }
            for (reason, n) in held.sorted(by: { $0.key < $1.key }) { lines.append("held \(n): \(reason)") }
            for (id, error) in failed.sorted(by: { $0.key < $1.key }).prefix(10) { lines.append("failed \(id): \(error)") }
            if failed.count > 10 { lines.append("… and \(failed.count - 10) more failures") }
            if retries > 0 { lines.append("\(retries) requests retried (429, 5xx, no answer)") }
            return lines.joined(separator: "\n")
        }
    }

    package let client: PanoptesClient
    package let state: StateStore
    package let options: Options
    /// Sets' subjects by (workflow, #alert_id): staging's, and adopted sets', listed once per round per set.
    private let members = Mutex<[String: [String: ZooniverseSubject]]>([:])

    package init(client: PanoptesClient, state: StateStore, options: Options) {
        self.client = client
        self.state = state
        self.options = options
    }

    var ledger: ZooniverseLedger { state.zooniverse }

    /// Pushes the subject-set folders (each with set.json and manifest.csv).
    package func push(folders: [String], progress: (@Sendable (String) -> Void)? = nil) throws -> Report {
        var report = Report()
        let project = try client.project(options.project)
        let account = try client.me()
        var sets: [String: SubjectSetFolder] = [:]
        let imported = Set(try ledger.importedManifests(project: project.id).map { Self.key($0.folder, $0.workflow) })
        for folder in folders {
            let set = try SubjectSetFolder.read(folder: folder)
            sets[set.name] = set
            guard !imported.contains(Self.key(folder, options.workflow ?? set.workflow ?? "")) else { continue }
            report.imported += try importManifest(folder: folder, set: set, project: project.id)
        }
        let stagingID = try ensureSet(options.stagingSetName, project: project.id, workflow: nil, report: &report)
        report.alreadyDone = try ledger.count(project: project.id, in: [.linked])

        // Gates: decide which waiting subjects may go now; the others are held with the reason.
        let remoteSets = try client.subjectSets(project: project.id)
        try gate(project: project.id, account: account, incomplete: remoteSets.filter(\.isIncomplete).map(\.displayName),
                 onZooniverse: Set(remoteSets.map(\.displayName)), sets: sets)

        for round in 1...max(1, options.rounds) {
            let pending = try ledger.subjects(project: project.id, in: [.ready, .creating, .created])
            if pending.isEmpty { break }
            // Sets first (few), then subjects in parallel.
            var setIDs: [String: String] = [:]
            for name in Set(pending.map(\.setName)).sorted() {
                let workflow = options.workflow ?? sets[name]?.workflow
                setIDs[name] = try ensureSet(name, project: project.id, workflow: workflow, report: &report)
            }
            // Sets found on Zooniverse rather than made by this store may hold some of these subjects
            // already (a lost state store): those are looked for before anything is created.
            let adopted = try ledger.adoptedSets(project: project.id)
            let stagingAdopted = adopted[options.stagingSetName] != nil
            let work = pending.map { (id: $0.externalID, workflow: $0.workflow, adoptedSet: adopted[$0.setName]) }
            let next = Atomic<Int>(0)
            let failures = Mutex<[String: String]>([:])
            let done = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: max(1, min(options.concurrency, work.count))) { _ in
                while true {
                    let i = next.add(1, ordering: .relaxed).oldValue
                    guard i < work.count else { return }
                    do {
                        try self.bring(work[i].id, workflow: work[i].workflow, project: project.id, staging: stagingID,
                                       lookIn: work[i].adoptedSet, lookInStaging: stagingAdopted)
                        let n = done.add(1, ordering: .relaxed).newValue
                        if n % 50 == 0 { progress?("round \(round): \(n) of \(work.count) subjects created and uploaded") }
                    } catch {
                        failures.withLock { $0[work[i].id] = "\(error)" }
                    }
                }
            }
            report.failed = failures.withLock { $0 }
            try linkUploaded(project: project.id, setIDs: setIDs, report: &report)
            if report.failed.isEmpty { break }
            members.withLock { $0 = [:] }  // look again: a failed create may have happened after all
            if round < options.rounds { Thread.sleep(forTimeInterval: client.configuration.retry.baseDelay * Double(round)) }
        }
        try linkUploaded(project: project.id, setIDs: [:], report: &report)
        try unstage(project: project.id, staging: stagingID)
        report.held = try ledger.summary(project: project.id).held
        report.pushed = try ledger.count(project: project.id, in: [.linked]) - report.alreadyDone
        report.retries = client.retries
        return report
    }

    // MARK: - Manifests

    /// Adds the manifest's subjects not yet known; returns how many. A closed set's manifest no
    /// longer changes (the sink closes a set under the lock it adds under), so it is read once:
    /// the same transaction records it as imported.
    func importManifest(folder: String, set: SubjectSetFolder, project: String) throws -> Int {
        let rows = try Manifest.read(folder + "/" + Manifest.fileName)
        let workflow = options.workflow ?? set.workflow ?? ""
        let subjects = rows.map { row in
            ZooniverseLedger.ManifestSubject(
                externalID: row.externalID, objectID: row.value("#object_id") ?? row.value("#diaObjectId") ?? row.value("#objectId"),
                frames: row.frames.map { ($0, Self.mimeType($0)) },
                metadata: Dictionary(row.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }))
        }
        return try ledger.importManifest(project: project, workflow: workflow, folder: folder, setName: set.name,
                                         subjects: subjects, closed: set.closedAt != nil)
    }

    static func mimeType(_ name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "json": "application/json"
        case "mp4": "video/mp4"
        case "txt": "text/plain"
        default: "application/octet-stream"
        }
    }

    // MARK: - Gates

    /// `onZooniverse`: the project's set names there; a set already there is not a new one, even when
    /// this state store has not heard of it (a lost store adopts it).
    func gate(project: String, account: ZooniverseAccount, incomplete: [String], onZooniverse: Set<String> = [],
              sets: [String: SubjectSetFolder]) throws {
        let waiting = try ledger.subjects(project: project, in: [.ready, .held])
        var inProject = options.approved ? 0 : try ledger.count(project: project, in: [.creating, .created, .uploaded, .linked])
        var accountLeft = account.remainingSubjects ?? .max
        var perSet: [String: Int] = [:]
        var busy = incomplete  // incomplete sets, and the new ones this push opens
        var newSetAllowed: [String: Bool] = [:]
        let existing = try ledger.madeSetNames(project: project).union(onZooniverse)
        var changes: [(subject: ZooniverseLedger.SubjectRef, reason: String?)] = []
        for row in waiting {
            let setName = row.setName
            var reason: String? = nil
            if perSet[setName] == nil {
                perSet[setName] = try ledger.count(project: project, in: [.creating, .created, .uploaded, .linked], setName: setName)
            }
            if !options.approved && inProject >= options.unapprovedLimit {
                reason = "data rights: the project is not approved yet, so it may hold \(options.unapprovedLimit) subjects in all (--approved once Rubin's data-rights panel approves it)"
            } else if options.approved && perSet[setName]! >= options.batchLimit {
                reason = "data rights: \(options.batchLimit) subjects per batch reached in \(setName)"
            } else if accountLeft <= 0 {
                reason = "Zooniverse account limit: \(account.login) has uploaded \(account.uploadedSubjects) of \(account.subjectLimit ?? 0) subjects (ask Zooniverse to raise subject_limit)"
            } else if !existing.contains(setName) {
                if newSetAllowed[setName] == nil {
                    newSetAllowed[setName] = busy.count < options.maxIncompleteSets
                    if newSetAllowed[setName]! && (options.workflow ?? sets[setName]?.workflow) != nil { busy.append(setName) }
                }
                if !newSetAllowed[setName]! {
                    reason = "\(busy.count) subject sets are still incomplete (\(busy.sorted().prefix(5).joined(separator: ", "))): no new set until one completes"
                }
            }
            // A row already so is not written again: a backlog held round after round costs reads only.
            if let reason, row.phase != .held || row.reason != reason {
                changes.append((row, reason))
            } else if reason == nil {
                inProject += 1
                accountLeft -= 1
                perSet[setName]! += 1
                if row.phase != .ready { changes.append((row, nil)) }
            }
        }
        try ledger.setHolds(project: project, changes)
    }

    // MARK: - Sets

    /// The Zooniverse id of the set, creating it (and linking it to the workflow) if needed. The set
    /// is looked for by name first, so a create whose answer was lost, or a set made before this state
    /// store (a lost or new one), is adopted instead of refused as a duplicate name (Panoptes keeps
    /// names unique per project); an adopted set's subjects are each looked for before one is made.
    func ensureSet(_ name: String, project: String, workflow: String?, report: inout Report) throws -> String {
        let record = try ledger.set(project: project, name: name)
        var id = record?.zooniverseID
        var phase = record?.phase
        if phase == nil || phase == .creating {
            let known = phase != nil  // 'creating': this store asked for it; nil: never heard of it
            id = try client.subjectSets(project: project, displayName: name).first?.id
            var adopted = id != nil && !known
            if id == nil {
                try ledger.markSetCreating(project: project, name: name, workflow: workflow)
                let made = Result { () throws(PanoptesError) in
                    try client.createSubjectSet(name: name, project: project, metadata: ["#created_by": "citsci"])
                }
                switch made {
                case .success(let set):
                    id = set.id
                    report.setsCreated.append(name)
                case .failure(let error) where error.isAlreadyTaken:
                    // Made meanwhile (another instance, or a request whose answer was lost): adopt it.
                    guard let found = try client.subjectSets(project: project, displayName: name).first?.id else { throw error }
                    id = found
                    adopted = true
                case .failure(let error):
                    throw error
                }
            }
            try ledger.markSetCreated(project: project, name: name, workflow: workflow, zooniverseID: id!, adopted: adopted)
            if adopted { report.setsAdopted.append(name) }
            phase = .created
        }
        if phase == .created, let workflow, !workflow.isEmpty {
            try client.link(subjectSet: id!, toWorkflow: workflow)
            try ledger.markSetLinked(project: project, name: name)
        }
        return id!
    }

    // MARK: - One subject

    typealias Row = ZooniverseLedger.Subject

    func load(_ id: String, workflow: String, project: String) throws -> Row {
        try ledger.subject(project: project, workflow: workflow, externalID: id)
    }

    /// Creates (or finds) the subject and uploads its frames: ready/creating/created → uploaded.
    /// `lookIn`: an adopted set, which may hold the subject already (then it is linked, and done);
    /// `lookInStaging`: the staging set was adopted too, so even a subject never tried may be there.
    func bring(_ id: String, workflow: String, project: String, staging: String, lookIn adoptedSet: String? = nil,
               lookInStaging: Bool = false) throws {
        var row = try load(id, workflow: workflow, project: project)
        if row.phase == .ready {
            if let adoptedSet, let there = try memberSubjects(adoptedSet)[Self.key(id, workflow)] {
                // Made, uploaded and linked by a state store that is gone: nothing to do but record it.
                try ledger.markFoundLinked(project: project, workflow: workflow, externalID: id, zooniverseID: there.id)
                return
            }
            try ledger.markCreating(project: project, workflow: workflow, externalID: id)
            row.phase = .creating
            try create(id, workflow: workflow, project: project, staging: staging, row: &row, lookFirst: lookInStaging)
        } else if row.phase == .creating {
            try create(id, workflow: workflow, project: project, staging: staging, row: &row, lookFirst: true)
        }
        guard row.phase == .created, let subjectID = row.zooniverseID else { return }
        var renewals = 0
        var i = row.framesUploaded
        while i < row.frames.count {
            let frame = row.frames[i]
            guard let bytes = FileManager.default.contents(atPath: row.folder + "/" + frame.name) else {
                throw CSVFileError(path: row.folder + "/" + frame.name, line: 0, reason: "frame file missing")
            }
            let sent = Result { () throws(PanoptesError) in
                guard i < row.uploadURLs.count else { throw PanoptesError(kind: .uploadExpired, method: "PUT", url: "", message: "no upload URL") }
                try client.upload(Array(bytes), mimeType: frame.mime, to: row.uploadURLs[i])
            }
            if case .failure(let e) = sent {
                guard e.kind == .uploadExpired, renewals < 3 else { throw e }
                renewals += 1
                let subject = try client.renewLocations(of: try client.subject(subjectID), mimeTypes: row.frames.map(\.mime))
                row.uploadURLs = subject.locations.map(\.url)
                try ledger.renewUploadURLs(project: project, workflow: workflow, externalID: id, row.uploadURLs)
                i = 0
                continue
            }
            // No synced write per frame: a PUT to the same URL overwrites, so a push stopped midway
            // sends the subject's frames again, and a frame's progress cost a commit.
            i += 1
        }
        try ledger.markUploaded(project: project, workflow: workflow, externalID: id)
    }

    /// creating → created. `lookFirst`: an earlier attempt may have created it; find it in staging.
    func create(_ id: String, workflow: String, project: String, staging: String, row: inout Row, lookFirst: Bool) throws {
        var subject: ZooniverseSubject? = nil
        if lookFirst, let found = try memberSubjects(staging)[Self.key(id, workflow)] {
            // Found: ask for fresh upload URLs, as which frames went up is unknown.
            subject = try client.renewLocations(of: try client.subject(found.id), mimeTypes: row.frames.map(\.mime))
        }
        if subject == nil {
            var metadata = row.metadata
            if !workflow.isEmpty { metadata["#workflow"] = .string(workflow) }
            if let object = row.objectID {
                let previous = try ledger.previousZooniverseIDs(project: project, object: object, excluding: id,
                                                                limit: SubjectContent.maxPreviousIDs)
                if !previous.isEmpty { metadata["#previous_subject_ids"] = .string(previous.joined(separator: ";")) }
            }
            let created = Result { () throws(PanoptesError) -> ZooniverseSubject in
                try client.createSubject(project: project, subjectSet: staging, mimeTypes: row.frames.map(\.mime), metadata: metadata)
            }
            if case .failure(let e) = created, let status = e.status, (400..<500).contains(status), status != 429 {
                // Refused, not lost: nothing was created. Held with the reason; the next push tries again.
                let limit = status == 403 && e.message.contains("subjects of")
                try ledger.markRefused(project: project, workflow: workflow, externalID: id,
                                       reason: limit ? "Zooniverse account limit: \(e.message)" : "refused by Zooniverse: \(e.description)")
                row.phase = .held
                if limit { return }
            }
            subject = try created.get()
        }
        guard let subject, subject.locations.count == row.frames.count else {
            throw PanoptesError(kind: .badResponse, method: "POST", url: "/api/subjects", message: "\(subject?.locations.count ?? 0) upload URLs for \(row.frames.count) frames")
        }
        row.zooniverseID = subject.id
        row.uploadURLs = subject.locations.map(\.url)
        row.framesUploaded = 0
        row.phase = .created
        try ledger.markCreated(project: project, workflow: workflow, externalID: id, zooniverseID: subject.id, uploadURLs: row.uploadURLs)
    }

    static func key(_ alertID: String, _ workflow: String) -> String { workflow + "/" + alertID }

    /// A set's subjects by (workflow, #alert_id) — staging's, or an adopted set's — listed once per round.
    func memberSubjects(_ set: String) throws -> [String: ZooniverseSubject] {
        if let cached = members.withLock({ $0[set] }) { return cached }
        var map: [String: ZooniverseSubject] = [:]
        for s in try client.subjects(inSet: set) {
            guard let alert = s.metadata["#alert_id"]?.string else { continue }
            map[Self.key(alert, s.metadata["#workflow"]?.string ?? "")] = s
        }
        members.withLock { $0[set] = map }
        return map
    }

    // MARK: - Links

    /// uploaded → linked: each set's uploaded subjects join it, 100 a request. Subjects left
    /// `uploaded` by an earlier run may have joined already: those are checked against the set first.
    func linkUploaded(project: String, setIDs: [String: String], report: inout Report) throws {
        let bySet = Dictionary(grouping: try ledger.subjects(project: project, in: [.uploaded])) { $0.setName }
        for (name, members) in bySet.sorted(by: { $0.key < $1.key }) {
            guard let setID = try setIDs[name] ?? ledger.set(project: project, name: name)?.zooniverseID else { continue }
            var todo = members
            let present = Set(try client.subjects(inSet: setID).map(\.id))
            let already = todo.filter { present.contains($0.zooniverseID ?? "") }
            try ledger.markLinked(project: project, already)
            todo.removeAll { present.contains($0.zooniverseID ?? "") }
            var start = 0
            while start < todo.count {
                let batch = Array(todo[start..<min(start + 100, todo.count)])
                try client.link(subjects: batch.compactMap(\.zooniverseID), toSet: setID)
                try ledger.markLinked(project: project, batch)
                report.linked += batch.count
                start += 100
            }
        }
    }

    /// Linked subjects leave the staging set (best effort: staying there is harmless, only slower to search).
    func unstage(project: String, staging: String) throws {
        let ids = try ledger.stagedLinked(project: project)
        guard !ids.isEmpty else { return }
        let inStaging = Set(try client.subjects(inSet: staging).map(\.id))
        try client.unlink(subjects: ids.filter(inStaging.contains), fromSet: staging)
        try ledger.markUnstaged(project: project, zooniverseIDs: ids)
    }

    /// Subjects of the project in the state store by state, and the held ones by reason.
    package static func summary(state: StateStore, project: String) throws -> (states: [String: Int], held: [String: Int]) {
        try state.zooniverse.summary(project: project)
    }
}
