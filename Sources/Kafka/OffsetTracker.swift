/// Which offsets of each partition may be committed: a message's offset becomes committable only
/// when it and every earlier message handed out from that partition are done (DESIGN.md rule 1).
/// So processing can finish out of order while commits stay in order, and a crash repeats only
/// messages whose effects were not all durable (at-least-once; never a loss).
package struct OffsetTracker: Sendable {
    package struct Partition: Hashable, Sendable, CustomStringConvertible {
        package let topic: String
        package let partition: Int32
        package init(topic: String, partition: Int32) {
            self.topic = topic
            self.partition = partition
        }
        package var description: String { "\(topic)[\(partition)]" }
    }

    private struct State: Sendable {
        /// Offsets handed out and not yet done, in order of arrival (offsets grow within a partition).
        var pending: [Int64] = []
        var pendingStart = 0
        var done: Set<Int64> = []
        /// The next offset to commit (last contiguous done offset + 1), if anything is done.
        var committable: Int64?
        /// What was last committed, so unchanged partitions are not committed again.
        var committed: Int64?
    }

    private var partitions: [Partition: State] = [:]

    package init() {}

    /// Records that a message was handed out for processing.
    package mutating func received(_ p: Partition, offset: Int64) {
        partitions[p, default: State()].pending.append(offset)
    }

    /// Records that a message's effects are durable.
    package mutating func done(_ p: Partition, offset: Int64) {
        guard var s = partitions[p] else { return }  // revoked meanwhile: its new owner redoes it
        s.done.insert(offset)
        while s.pendingStart < s.pending.count, s.done.remove(s.pending[s.pendingStart]) != nil {
            s.committable = s.pending[s.pendingStart] + 1
            s.pendingStart += 1
        }
        if s.pendingStart > 1024 && s.pendingStart * 2 > s.pending.count {  // compact
            s.pending.removeFirst(s.pendingStart)
            s.pendingStart = 0
        }
        partitions[p] = s
    }

    /// Offsets to commit now: per partition, the next offset after its contiguous done prefix, for
    /// partitions that moved since the last call. Marks them as committed.
    package mutating func takeCommittable() -> [Partition: Int64] {
        var out: [Partition: Int64] = [:]
        for (p, s) in partitions {
            if let c = s.committable, c != s.committed {
                out[p] = c
                partitions[p]!.committed = c
            }
        }
        return out
    }

    /// Messages handed out and not yet done.
    package var inFlight: Int { partitions.values.reduce(0) { $0 + $1.pending.count - $1.pendingStart - $1.done.count } }

    package func inFlight(_ p: Partition) -> Int { partitions[p].map { $0.pending.count - $0.pendingStart - $0.done.count } ?? 0 }

    /// Forgets partitions taken away by a rebalance (after their committable offsets were taken).
    package mutating func revoke(_ revoked: some Sequence<Partition>) {
        for p in revoked { partitions[p] = nil }
    }

    package mutating func revokeAll() { partitions.removeAll() }
}
