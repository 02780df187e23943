/// One decoder per worker of a pipeline's parallel stage (Kafka's `runStaged`, the folder source's).
/// A decoder caches compiled schemas and is not thread-safe; worker `i` alone uses decoder `i`, and a
/// stage's workers finish before the next stage starts, so no decoder is ever used by two tasks at once.
package final class DecoderPool: @unchecked Sendable {
    private let decoders: [AlertDecoder]

    package init(_ decoders: [AlertDecoder]) { self.decoders = decoders }
    package var count: Int { decoders.count }
    package subscript(i: Int) -> AlertDecoder { decoders[i] }
}
