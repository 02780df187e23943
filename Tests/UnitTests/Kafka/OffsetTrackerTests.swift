import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

@Suite struct OffsetTrackerTests {
    let p = OffsetTracker.Partition(topic: "alerts", partition: 0)
    let q = OffsetTracker.Partition(topic: "alerts", partition: 1)

    @Test func commitsOnlyTheContiguousDonePrefix() {
        var t = OffsetTracker()
        for o in Int64(10)...14 { t.received(p, offset: o) }
        t.done(p, offset: 12)
        t.done(p, offset: 11)
        #expect(t.takeCommittable().isEmpty, "10 is not done: nothing may be committed")
        t.done(p, offset: 10)
        #expect(t.takeCommittable() == [p: 13])
        #expect(t.takeCommittable().isEmpty, "unchanged: not committed twice")
        t.done(p, offset: 14)
        #expect(t.inFlight == 1)
        t.done(p, offset: 13)
        #expect(t.takeCommittable() == [p: 15])
        #expect(t.inFlight == 0)
    }

    @Test func partitionsAreIndependent() {
        var t = OffsetTracker()
        t.received(p, offset: 0)
        t.received(q, offset: 100)
        t.done(q, offset: 100)
        #expect(t.takeCommittable() == [q: 101])
        #expect(t.inFlight(p) == 1)
    }

    @Test func revokedPartitionsAreForgotten() {
        var t = OffsetTracker()
        t.received(p, offset: 0)
        t.revoke([p])
        t.done(p, offset: 0)  // finished after the partition went to another member
        #expect(t.takeCommittable().isEmpty)
        #expect(t.inFlight == 0)
    }

    @Test func manyOffsetsStayCompact() {
        var t = OffsetTracker()
        for o in Int64(0)..<50_000 { t.received(p, offset: o); t.done(p, offset: o) }
        #expect(t.takeCommittable() == [p: 50_000])
        #expect(t.inFlight == 0)
    }
}
