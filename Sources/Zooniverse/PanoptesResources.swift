import Basics
import Foundation

/// The logged-in account and how many subjects it may still create (`subject_limit` is per user;
/// Panoptes refuses `POST /api/subjects` beyond it).
package struct ZooniverseAccount: Sendable {
    package let id: String
    package let login: String
    package let subjectLimit: Int?
    package let uploadedSubjects: Int
    package var remainingSubjects: Int? { subjectLimit.map { max(0, $0 - uploadedSubjects) } }
}

package struct ZooniverseProject: Sendable {
    package let id: String
    package let slug: String?
    package let displayName: String
    package let workflowIDs: [String]
    package let subjectSetIDs: [String]
}

package struct ZooniverseSubjectSet: Sendable {
    package let id: String
    package let displayName: String
    /// Fraction retired per linked workflow; empty when linked to none.
    package let completeness: [String: Double]
    package let workflowIDs: [String]
    /// `set_member_subjects_count`.
    package let memberCount: Int
    package let etag: String?

    /// Still being classified: some linked workflow has not retired all of it (a set linked to no
    /// workflow is not counted: volunteers cannot see it).
    package var isIncomplete: Bool { completeness.values.contains { $0 < 1 } }
}

package struct ZooniverseSubject: Sendable {
    package let id: String
    /// One (MIME type, URL) per frame, in frame order: signed upload URLs right after a create or
    /// location update, public URLs later.
    package let locations: [(mime: String, url: String)]
    package let metadata: [String: JSONValue]
    package let subjectSetIDs: [String]
    package let etag: String?
}

extension PanoptesClient {
    /// `GET /api/me`.
    package func me() throws(PanoptesError) -> ZooniverseAccount {
        let doc = try api("GET", "/me")
        let u = try first(doc, "users", "/me")
        return ZooniverseAccount(id: u["id"]?.id ?? "?", login: u["login"]?.string ?? "?",
                                 subjectLimit: u["subject_limit"]?.int,
                                 uploadedSubjects: u["uploaded_subjects_count"]?.int ?? 0)
    }

    /// A project by id (`43`) or slug (`owner/name`).
    package func project(_ idOrSlug: String) throws(PanoptesError) -> ZooniverseProject {
        let p: JSONValue
        if idOrSlug.allSatisfy(\.isNumber) {
            p = try first(try api("GET", "/projects/\(idOrSlug)"), "projects", "/projects/\(idOrSlug)")
        } else {
            p = try first(try api("GET", "/projects", query: [("slug", idOrSlug)]), "projects", "/projects?slug=\(idOrSlug)")
        }
        return ZooniverseProject(id: p["id"]?.id ?? idOrSlug, slug: p["slug"]?.string,
                                 displayName: p["display_name"]?.string ?? "", workflowIDs: ids(p["links"]?["workflows"]),
                                 subjectSetIDs: ids(p["links"]?["subject_sets"]))
    }

    /// `POST /api/subject_sets`. Not retried after an unclear failure: look it up by name first.
    package func createSubjectSet(name: String, project: String, metadata: [String: JSONValue] = [:]) throws(PanoptesError) -> ZooniverseSubjectSet {
        let body: JSONValue = ["subject_sets": ["display_name": .string(name), "metadata": .object(metadata),
                                                "links": ["project": .string(project)]]]
        let doc = try api("POST", "/subject_sets", body: body, idempotent: false)
        return subjectSet(try first(doc, "subject_sets", "/subject_sets"), etag: doc.etag)
    }

    /// The project's subject sets, optionally only the one with a display name.
    package func subjectSets(project: String, displayName: String? = nil) throws(PanoptesError) -> [ZooniverseSubjectSet] {
        var query = [("project_id", project)]
        if let displayName { query.append(("display_name", displayName)) }
        return try pages("/subject_sets", kind: "subject_sets", query: query).map { subjectSet($0, etag: nil) }
    }

    package func subjectSet(_ id: String) throws(PanoptesError) -> ZooniverseSubjectSet {
        let doc = try api("GET", "/subject_sets/\(id)")
        return subjectSet(try first(doc, "subject_sets", "/subject_sets/\(id)"), etag: doc.etag)
    }

    /// `POST /api/workflows/{id}/links/subject_sets`: volunteers on the workflow see the set. Safe to
    /// repeat: Panoptes links a set to a workflow once and refuses a second link (400 "Workflow has
    /// already been taken"), so the set is read first and that answer is taken as done.
    package func link(subjectSet: String, toWorkflow workflow: String) throws(PanoptesError) {
        if try self.subjectSet(subjectSet).workflowIDs.contains(workflow) { return }
        do {
            _ = try api("POST", "/workflows/\(workflow)/links/subject_sets", body: ["subject_sets": [.string(subjectSet)]], idempotent: true)
        } catch where error.isAlreadyTaken {
            return  // an earlier request, whose answer was lost, did it
        }
    }

    /// `POST /api/subjects` with one MIME type per frame, in order; the answer holds one signed upload
    /// URL per frame in the same order. Linking to `subjectSet` at creation makes the subject findable
    /// by `subjects(inSet:)` if the answer is lost. Not retried after an unclear failure.
    package func createSubject(project: String, subjectSet: String?, mimeTypes: [String],
                              metadata: [String: JSONValue]) throws(PanoptesError) -> ZooniverseSubject {
        var links: [String: JSONValue] = ["project": .string(project)]
        if let subjectSet { links["subject_sets"] = [.string(subjectSet)] }
        let body: JSONValue = ["subjects": ["locations": .array(mimeTypes.map(JSONValue.string)),
                                            "metadata": .object(metadata), "links": .object(links)]]
        let doc = try api("POST", "/subjects", body: body, idempotent: false)
        return subject(try first(doc, "subjects", "/subjects"), etag: doc.etag)
    }

    package func subject(_ id: String) throws(PanoptesError) -> ZooniverseSubject {
        let doc = try api("GET", "/subjects/\(id)")
        return subject(try first(doc, "subjects", "/subjects/\(id)"), etag: doc.etag)
    }

    /// Fresh signed upload URLs for every frame (`PUT /api/subjects/{id}` with the locations again),
    /// when the first ones expired. Reloads and tries once more if the subject changed meanwhile (412).
    package func renewLocations(of subject: ZooniverseSubject, mimeTypes: [String]) throws(PanoptesError) -> ZooniverseSubject {
        var current = subject
        if current.etag == nil { current = try self.subject(subject.id) }
        let body: JSONValue = ["subjects": ["locations": .array(mimeTypes.map(JSONValue.string))]]
        do {
            let doc = try api("PUT", "/subjects/\(subject.id)", body: body, ifMatch: current.etag)
            return self.subject(try first(doc, "subjects", "/subjects/\(subject.id)"), etag: doc.etag)
        } catch where error.status == 412 {
            let reloaded = try self.subject(subject.id)
            let doc = try api("PUT", "/subjects/\(subject.id)", body: body, ifMatch: reloaded.etag)
            return self.subject(try first(doc, "subjects", "/subjects/\(subject.id)"), etag: doc.etag)
        }
    }

    /// Every subject of a set (paged, 100 at a time).
    package func subjects(inSet set: String) throws(PanoptesError) -> [ZooniverseSubject] {
        try pages("/subjects", kind: "subjects", query: [("subject_set_id", set)]).map { subject($0, etag: nil) }
    }

    /// `POST /api/subject_sets/{id}/links/subjects`, at most 100 ids a request as Panoptes allows.
    /// Safe to repeat: a subject is in a set once, and a request naming one that is there already
    /// fails whole (400 "Subject has already been taken"); then the set is read and only the
    /// missing ones are linked.
    package func link(subjects: [String], toSet set: String) throws(PanoptesError) {
        var start = 0
        while start < subjects.count {
            let batch = Array(subjects[start..<min(start + 100, subjects.count)])
            do {
                _ = try api("POST", "/subject_sets/\(set)/links/subjects", body: ["subjects": .array(batch.map(JSONValue.string))], idempotent: true)
            } catch where error.isAlreadyTaken {
                let present = Set(try self.subjects(inSet: set).map(\.id))
                let missing = batch.filter { !present.contains($0) }
                if !missing.isEmpty {
                    _ = try api("POST", "/subject_sets/\(set)/links/subjects", body: ["subjects": .array(missing.map(JSONValue.string))], idempotent: true)
                }
            }
            start += 100
        }
    }

    /// `DELETE /api/subject_sets/{id}/links/subjects/{ids}` (the subjects stay; only membership goes),
    /// at most 100 ids a request. Safe to repeat: Panoptes answers 404 when an id is not in the set
    /// (a removal whose answer was lost); then the set is read and only those still in it go.
    package func unlink(subjects: [String], fromSet set: String) throws(PanoptesError) {
        var start = 0
        while start < subjects.count {
            let batch = Array(subjects[start..<min(start + 100, subjects.count)])
            do {
                _ = try api("DELETE", "/subject_sets/\(set)/links/subjects/" + batch.joined(separator: ","))
            } catch where error.status == 404 {
                let present = Set(try self.subjects(inSet: set).map(\.id))
                let still = batch.filter(present.contains)
                if !still.isEmpty { _ = try api("DELETE", "/subject_sets/\(set)/links/subjects/" + still.joined(separator: ",")) }
            }
            start += 100
        }
    }

    /// Puts one frame to its signed URL (Azure blob storage): `Content-Type` as signed,
    /// `x-ms-blob-type: BlockBlob`, and no Zooniverse credentials.
    package func upload(_ bytes: [UInt8], mimeType: String, to url: String) throws(PanoptesError) {
        let headers = [("Content-Type", mimeType), ("x-ms-blob-type", "BlockBlob")]
        let response = try send("PUT", url, headers: headers, body: bytes, idempotent: true)
        guard (200..<300).contains(response.status) else {
            let message = PanoptesError.message(from: response)
            if response.status == 403 {
                throw PanoptesError(kind: .uploadExpired, method: "PUT", url: Self.redacted(url), message: message)
            }
            throw PanoptesError(kind: .http(status: response.status), method: "PUT", url: Self.redacted(url), message: message)
        }
    }

    // MARK: - Documents

    private func pages(_ path: String, kind: String, query: [(String, String)]) throws(PanoptesError) -> [JSONValue] {
        var all: [JSONValue] = []
        var page = 1
        // A server that always names a next page would keep this going for ever: 10,000 pages of 100
        // is more than any project's sets or a set's subjects.
        for _ in 0..<10_000 {
            let doc = try api("GET", path, query: query + [("page_size", "100"), ("page", String(page))])
            all += doc.body[kind]?.array ?? []
            guard let next = doc.body["meta"]?[kind]?["next_page"]?.int, next > page else { return all }
            page = next
        }
        throw PanoptesError(kind: .badResponse, method: "GET", url: path, message: "more than 10,000 pages of \(kind): the answers do not end")
    }

    func first(_ doc: Document, _ kind: String, _ path: String) throws(PanoptesError) -> JSONValue {
        guard let r = doc.body[kind]?[0] else {
            throw PanoptesError(kind: .badResponse, method: "GET", url: configuration.endpoint + "/api" + path,
                                message: "no \(kind) in the answer: \(doc.body.description.prefix(200))")
        }
        return r
    }

    func ids(_ v: JSONValue?) -> [String] { v?.array?.compactMap(\.id) ?? [] }

    private func subjectSet(_ s: JSONValue, etag: String?) -> ZooniverseSubjectSet {
        var completeness: [String: Double] = [:]
        for (k, v) in s["completeness"]?.object ?? [:] { completeness[k] = v.number ?? 0 }
        return ZooniverseSubjectSet(id: s["id"]?.id ?? "?", displayName: s["display_name"]?.string ?? "",
                                    completeness: completeness, workflowIDs: ids(s["links"]?["workflows"]),
                                    memberCount: s["set_member_subjects_count"]?.int ?? 0, etag: etag)
    }

    private func subject(_ s: JSONValue, etag: String?) -> ZooniverseSubject {
        let locations = (s["locations"]?.array ?? []).compactMap { loc -> (String, String)? in
            guard let (mime, url) = loc.object?.first, let u = url.string else { return nil }
            return (mime, u)
        }
        return ZooniverseSubject(id: s["id"]?.id ?? "?", locations: locations, metadata: s["metadata"]?.object ?? [:],
                                 subjectSetIDs: ids(s["links"]?["subject_sets"]), etag: etag)
    }
}
