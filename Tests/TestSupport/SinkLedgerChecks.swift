import Foundation
import State
import Testing

/// The batch lookup answers as one lookup a subject would: pending or confirmed, absent ones left out,
/// keys repeated or beyond one query's worth (400) included.
package func checkSinkBatchLookup(_ store: StateStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let ledger = store.sink
    try ledger.recordSet(name: "s1", destination: "1/2", filter: "f", folder: "/tmp/s1", openedAt: Date())
    let pending = (0..<450).map { SinkLedger.PendingSubject(destination: "1/2", externalID: "a\($0)", setName: "s1", objectID: nil, filters: ["f"]) }
    try ledger.recordPending(pending, at: Date())
    try ledger.confirm((0..<10).map { ("1/2", "a\($0)", "s1") })
    var keys = (0..<460).map { SinkLedger.Key(destination: "1/2", externalID: "a\($0)") }
    keys += [SinkLedger.Key(destination: "9/9", externalID: "a1"), keys[3]]
    let found = try ledger.subjects(keys)
    #expect(found.count == 450, sourceLocation: sourceLocation)
    for key in keys {
        let one = try ledger.subject(destination: key.destination, externalID: key.externalID)
        #expect(found[key]?.setName == one?.setName && found[key]?.pending == one?.pending, "\(key)", sourceLocation: sourceLocation)
    }
    #expect(found[SinkLedger.Key(destination: "1/2", externalID: "a3")]?.pending == false, sourceLocation: sourceLocation)
    #expect(found[SinkLedger.Key(destination: "1/2", externalID: "a30")]?.pending == true, sourceLocation: sourceLocation)
    #expect(try ledger.subjects([]).isEmpty, sourceLocation: sourceLocation)
}
