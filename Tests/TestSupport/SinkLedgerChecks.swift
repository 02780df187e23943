import Foundation
import Service
import State
import Testing

/// The batch lookups answer as one lookup a subject would: pending or confirmed, absent ones left out,
/// keys repeated or beyond one statement's worth (200) included; an object's previous subjects newest
/// by time, then by id; the batch writes (several statements' worth of rows) all land.
package func checkSinkBatchLookup(_ store: StateStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let ledger = store.sink
    try ledger.recordSet(name: "s1", destination: "1/2", filter: "f", folder: "/tmp/s1", openedAt: Date())
    let pending = (0..<450).map { SinkLedger.PendingSubject(destination: "1/2", externalID: "a\($0)", setName: "s1", objectID: "o\($0 % 7)", filters: ["f"]) }
    try ledger.recordPending(pending, at: Date(timeIntervalSince1970: 1_000))
    try ledger.confirm((0..<260).map { ("1/2", "a\($0)", "s1") })
    var keys = (0..<460).map { SinkLedger.Key(destination: "1/2", externalID: "a\($0)") }
    keys += [SinkLedger.Key(destination: "9/9", externalID: "a1"), keys[3]]
    let found = try ledger.subjects(keys)
    #expect(found.count == 450, sourceLocation: sourceLocation)
    for key in keys {
        let one = try ledger.subject(destination: key.destination, externalID: key.externalID)
        #expect(found[key]?.setName == one?.setName && found[key]?.pending == one?.pending, "\(key)", sourceLocation: sourceLocation)
    }
    #expect(found[SinkLedger.Key(destination: "1/2", externalID: "a3")]?.pending == false, sourceLocation: sourceLocation)
    #expect(found[SinkLedger.Key(destination: "1/2", externalID: "a259")]?.pending == false, sourceLocation: sourceLocation)
    #expect(found[SinkLedger.Key(destination: "1/2", externalID: "a260")]?.pending == true, sourceLocation: sourceLocation)
    #expect(try ledger.subjects([]).isEmpty, sourceLocation: sourceLocation)

    // Later subjects of o0…o6 whose ids sort first: newest by time all the same.
    let later = (0..<7).map { SinkLedger.PendingSubject(destination: "1/2", externalID: "0\($0)", setName: "s1", objectID: "o\($0)", filters: ["f"]) }
    try ledger.recordPending(later, at: Date(timeIntervalSince1970: 2_000))
    try ledger.confirm((0..<7).map { ("1/2", "0\($0)", "s1") })
    var objects = (0..<300).map { SinkLedger.ObjectKey(destination: "1/2", objectID: "o\($0 % 9)") }  // o7, o8: none
    objects.append(SinkLedger.ObjectKey(destination: "9/9", objectID: "o1"))
    let previous = try ledger.previousSubjects(objects, limit: 5)
    #expect(previous.count == 7, "\(previous.keys)", sourceLocation: sourceLocation)
    for k in 0..<7 {
        // Confirmed a-subjects of the object, the same time: the highest ids are the newest.
        let older = (0..<260).filter { $0 % 7 == k }.map { "a\($0)" }.sorted(by: >).prefix(4).reversed()
        #expect(previous[SinkLedger.ObjectKey(destination: "1/2", objectID: "o\(k)")] == Array(older) + ["0\(k)"], "o\(k)",
                sourceLocation: sourceLocation)
    }
    #expect(try ledger.previousSubjects(objects, limit: 0).isEmpty, sourceLocation: sourceLocation)

    // Outcomes of a batch beyond one statement's rows, one alert twice: each recorded once.
    let simulator = AlertSimulator(seed: 5)
    let alerts = try simulator.alerts(0..<450)
    try store.record(alerts.map { ($0, .matched, ["f"]) } + [(alerts[7], .filteredOut, [])])
    #expect(Set(alerts.map(\.alertId)).count == 450, sourceLocation: sourceLocation)
    for alert in alerts {
        #expect(try store.outcome(of: alert.alertId, survey: alert.survey)?.outcome == .matched, "\(alert.alertId)", sourceLocation: sourceLocation)
    }
}
