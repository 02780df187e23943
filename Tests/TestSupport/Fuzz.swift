import Foundation

/// Seeded mutation fuzzing that lives in the test suite: every case is derived from real inputs
/// (seeds) by a reproducible generator, so a failure names its seed and case number and can be
/// replayed. `CITSCI_FUZZ_CASES` scales the count up (`scripts/fuzz` runs long campaigns).
package struct Fuzz: Sendable {
    package let seeds: [[UInt8]]
    package let count: Int
    package let seed: UInt64

    /// `count` cases (times CITSCI_FUZZ_SCALE when set) from `seeds`.
    package init(seeds: [[UInt8]], count: Int, seed: UInt64 = 0x5eed) {
        precondition(!seeds.isEmpty, "fuzzing needs at least one seed input")
        self.seeds = seeds
        let scale = ProcessInfo.processInfo.environment["CITSCI_FUZZ_SCALE"].flatMap(Int.init) ?? 1
        self.count = count * max(1, scale)
        self.seed = ProcessInfo.processInfo.environment["CITSCI_FUZZ_SEED"].flatMap(UInt64.init) ?? seed
    }

    /// Calls `body` with each case and its number; the seeds themselves come first.
    package func forEach(_ body: (Int, [UInt8]) throws -> Void) rethrows {
        var rng = SplitMix64(seed: seed)
        for (i, s) in seeds.enumerated() { try body(i, s) }
        for i in seeds.count..<(seeds.count + count) {
            try body(i, mutate(seeds[Int(rng.next() % UInt64(seeds.count))], &rng))
        }
    }

    /// One to four mutations of `input`, the kinds AFL and libFuzzer use.
    func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        let rounds = 1 + Int(rng.next() % 4)
        for _ in 0..<rounds {
            let pos = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
            switch rng.next() % 10 {
            case 0 where !b.isEmpty: b[pos] ^= UInt8(1 << (rng.next() % 8))
            case 1 where !b.isEmpty: b[pos] = [0, 0xff, 0x7f, 0x80, 0x01, 0xfe][Int(rng.next() % 6)]
            case 2 where !b.isEmpty:  // a varint / length field pushed to an extreme
                let extreme: [UInt8] = [[0xff, 0xff, 0xff, 0xff, 0x0f], [0x81, 0x80, 0x80, 0x80, 0x10], [0x01], [0x7f]][Int(rng.next() % 4)]
                b.replaceSubrange(pos..<min(b.count, pos + extreme.count), with: extreme)
            case 3: b.insert(contentsOf: (0..<(1 + rng.next() % 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: pos)
            case 4 where b.count > 1: b.removeSubrange(pos..<min(b.count, pos + 1 + Int(rng.next() % 64)))
            case 5 where !b.isEmpty:  // duplicate a run
                let end = min(b.count, pos + 1 + Int(rng.next() % 128))
                b.insert(contentsOf: b[pos..<end], at: end)
            case 6: b = Array(b.prefix(Int(rng.next() % UInt64(b.count + 1))))  // truncate
            case 7:  // splice another seed's tail
                let other = seeds[Int(rng.next() % UInt64(seeds.count))]
                let from = other.isEmpty ? 0 : Int(rng.next() % UInt64(other.count))
                b = Array(b.prefix(pos)) + other[from...]
            case 8 where !b.isEmpty:  // an ASCII digit run made huge (numbers in text formats)
                b.insert(contentsOf: Array(String(repeating: "9", count: 1 + Int(rng.next() % 40)).utf8), at: pos)
            default:
                if !b.isEmpty { b[pos] = UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
        return b
    }
}
