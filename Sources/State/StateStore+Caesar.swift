import Basics
import Foundation

/// Reductions Caesar posts, one row per (workflow, subject, reducer), versioned by content.
extension StateStore {
    /// One stored reduction, as Caesar sent it.
    package struct StoredReduction: Sendable {
        package let reducerKey: String
        package let data: [String: JSONValue]
        package let subjectMetadata: [String: JSONValue]
        package let version: Int
        package let receivedAt: Date
    }

    /// Stores a reduction's data unless the same content is there already: nil when unchanged,
    /// else the reduction's new version (1 for the first).
    package func storeReduction(workflow: String, subject: String, reducerKey: String, data: JSONValue,
                                subjectMetadata: [String: JSONValue], at now: Date = Date()) throws -> Int? {
        try database.transaction { tx in
            let text = data.description
            let existing = try tx.execute("SELECT data, version FROM caesar_reductions WHERE workflow = ? AND subject = ? AND reducer_key = ?",
                                          [.text(workflow), .text(subject), .text(reducerKey)]).first
            if existing?[0].text == text { return nil }
            let version = Int(existing?[1].integer ?? 0) + 1
            try tx.execute("""
                INSERT INTO caesar_reductions (workflow, subject, reducer_key, data, subject_metadata, version, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workflow, subject, reducer_key)
                DO UPDATE SET data = excluded.data, subject_metadata = excluded.subject_metadata, version = excluded.version,
                              received_at = excluded.received_at
                """, [.text(workflow), .text(subject), .text(reducerKey), .text(text),
                      .text(JSONValue.object(subjectMetadata).description), .integer(Int64(version)), .real(now.timeIntervalSince1970)])
            return version
        }
    }

    /// The subject's stored reductions, by reducer key.
    package func reductions(workflow: String, subject: String) throws -> [StoredReduction] {
        try database.execute(
            "SELECT reducer_key, data, subject_metadata, version, received_at FROM caesar_reductions WHERE workflow = ? AND subject = ? ORDER BY reducer_key",
            [.text(workflow), .text(subject)]
        ).map { r in
            StoredReduction(reducerKey: r[0].text ?? "",
                            data: (try? JSONValue.decode(Array((r[1].text ?? "{}").utf8)))?.object ?? [:],
                            subjectMetadata: r[2].text.flatMap { try? JSONValue.decode(Array($0.utf8)) }?.object ?? [:],
                            version: Int(r[3].integer ?? 0), receivedAt: Date(timeIntervalSince1970: r[4].real ?? 0))
        }
    }
}
