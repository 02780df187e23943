import Basics
import Foundation

// What the web pages read: the sets newest first with their state on Zooniverse, a set's subjects'
// states, and the subjects volunteers classified last. Each is one indexed query, so a page over a
// store of a night's alerts answers as fast as over an empty one.

extension SinkLedger {
    /// A set as the subjects page lists it.
    package struct SetListing: Sendable, Equatable {
        package let set: SetRow
        package let openedAt: Date
        package let closedAt: Date?
    }

    /// The sets, newest first.
    package func sets(limit: Int, offset: Int = 0) throws -> [SetListing] {
        try database.execute("""
            SELECT \(Self.setColumns), opened_at, closed_at FROM sink_sets ORDER BY opened_at DESC, name DESC LIMIT ? OFFSET ?
            """, [.integer(Int64(limit)), .integer(Int64(offset))]).map { r in
            SetListing(set: try Self.setRow(r), openedAt: Date(timeIntervalSince1970: r[Self.setColumnCount].real ?? 0),
                       closedAt: r[Self.setColumnCount + 1].real.map(Date.init(timeIntervalSince1970:)))
        }
    }

    /// How many sets the sink has made.
    package func setCount() throws -> Int {
        Int(try database.execute("SELECT COUNT(*) FROM sink_sets").first?.first?.integer ?? 0)
    }
}

extension ZooniverseLedger {
    /// A set of the sink as it stands on Zooniverse (in one project).
    package struct SetOnZooniverse: Sendable, Equatable {
        package let project: String
        package let phase: SetRecord.Phase
        package let zooniverseID: String?
        /// The set's subjects by phase (`ready`, `held`, …, `linked`).
        package let subjects: [String: Int]
        /// The held ones by reason.
        package let held: [String: Int]
    }

    /// The named sets' state on Zooniverse, by name; a set not pushed yet is absent.
    package func sets(named names: [String]) throws -> [String: [SetOnZooniverse]] {
        guard !names.isEmpty else { return [:] }
        var out: [String: [SetOnZooniverse]] = [:]
        let marks = Array(repeating: "?", count: names.count).joined(separator: ",")
        for r in try database.execute("SELECT project, name, state, zooniverse_id FROM zooniverse_sets WHERE name IN (\(marks))",
                                      names.map { .text($0) }) {
            let project = try r.text(0, "zooniverse_sets.project"), name = try r.text(1, "zooniverse_sets.name")
            var subjects: [String: Int] = [:], held: [String: Int] = [:]
            for s in try database.execute("SELECT state, reason, COUNT(*) FROM subjects WHERE project = ? AND set_name = ? GROUP BY state, reason",
                                          [.text(project), .text(name)]) {
                let n = Int(s[2].integer ?? 0)
                subjects[s[0].text ?? "?", default: 0] += n
                if s[0].text == Phase.held.rawValue { held[s[1].text ?? "no reason given", default: 0] += n }
            }
            out[name, default: []].append(SetOnZooniverse(project: project, phase: SetRecord.Phase(rawValue: r[2].text ?? "") ?? .creating,
                                                          zooniverseID: r[3].text, subjects: subjects, held: held))
        }
        return out
    }

    /// A set's subjects as they stand on Zooniverse, by external id (every project the set went to).
    package func subjects(inSet name: String, projects: [String]) throws -> [String: SubjectRef] {
        var out: [String: SubjectRef] = [:]
        for project in projects {
            for r in try database.execute("SELECT external_id, workflow, state, reason, zooniverse_id FROM subjects WHERE project = ? AND set_name = ?",
                                          [.text(project), .text(name)]) {
                let id = r[0].text ?? ""
                out[id] = SubjectRef(externalID: id, workflow: r[1].text ?? "", setName: name,
                                     phase: Phase(rawValue: r[2].text ?? "") ?? .held, reason: r[3].text, zooniverseID: r[4].text)
            }
        }
        return out
    }

    /// Subjects held by the data-rights gate, by project and reason.
    package func heldByProject() throws -> [String: [String: Int]] {
        var out: [String: [String: Int]] = [:]
        for p in try database.execute("SELECT project FROM zooniverse_sets UNION SELECT project FROM imported_manifests").compactMap({ $0[0].text }) {
            let held = try summary(project: p).held
            if !held.isEmpty { out[p] = held }
        }
        return out
    }

    /// The subject Zooniverse knows by `zooniverseID`, as citsci pushed it, and its project.
    package func subject(zooniverseID: String) throws -> (project: String, subject: Subject)? {
        guard let r = try database.execute("SELECT project, workflow, external_id FROM subjects WHERE zooniverse_id = ? LIMIT 1",
                                           [.text(zooniverseID)]).first else { return nil }
        let project = try r.text(0, "subjects.project")
        return (project, try subject(project: project, workflow: r.text(1, "subjects.workflow"), externalID: r.text(2, "subjects.external_id")))
    }
}

extension StateStore {
    /// The subjects classified last, newest classification first: a page of the results. Walks the
    /// classifications from the newest (by their index) until the page is full, so the first pages
    /// cost the same whatever the store holds.
    package func lastClassifiedSubjects(limit: Int, offset: Int = 0) throws -> [SubjectKey] {
        let want = offset + limit, batch = max(256, want * 4)
        var seen = Set<SubjectKey>(), out: [SubjectKey] = []
        var before = Int64.max
        while out.count < want {
            var rows = try database.execute("""
                SELECT workflow, subject, classification_id FROM classification_subjects
                WHERE classification_id < ? ORDER BY classification_id DESC LIMIT ?
                """, [.integer(before), .integer(Int64(batch))])
            guard let last = rows.last?[2].integer else { break }
            let full = rows.count == batch
            // A full batch may end inside one classification's subjects: those come with the next.
            if full, rows.first?[2].integer != last { rows.removeAll { $0[2].integer == last } }
            for r in rows {
                let key = SubjectKey(workflowID: r[0].text ?? "", subjectID: r[1].text ?? "")
                if seen.insert(key).inserted { out.append(key) }
            }
            before = rows.last?[2].integer ?? last
            if !full { break }
        }
        return Array(out.dropFirst(offset).prefix(limit))
    }
}
