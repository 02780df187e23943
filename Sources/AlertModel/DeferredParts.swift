import Avro
import Synchronization

/// The parts of an alert that are read only when first asked for: the record's top-level arrays
/// (a Rubin LSSTCam alert's 300-400 previous sources and 300-800 forced sources, a ZTF alert's
/// previous candidates) and the history and forced photometry made of them. Most alerts match no
/// filter: their arrays are never read, which is most of the decoding an alert would otherwise cost.
///
/// The bytes were validated, and what reading them could refuse (a narrowing out of range, an enum
/// symbol or union branch the reader lacks) was checked in the same walk, when the alert was decoded:
/// a bad value sends its message to dead letters then, not when a flipbook is drawn.
final class DeferredParts: Sendable {
    struct Parts: Sendable {
        let record: AvroRecord
        let history: [Photometry]
        let forcedPhotometry: [Photometry]
    }

    /// The record's bytes, and where each writer field starts in them (then the end).
    private let record: RecordStorage
    private let writerFields: [Int]
    /// Top-level reader fields left null in the head record.
    private let slots: [Int]
    private let reader: BinaryRecordReader
    private let mapping: AlertMapping
    private let read = Mutex<Parts?>(nil)

    init(record: RecordStorage, writerFields: [Int], slots: [Int], reader: BinaryRecordReader, mapping: AlertMapping) {
        self.record = record
        self.writerFields = writerFields
        self.slots = slots
        self.reader = reader
        self.mapping = mapping
    }

    var isRead: Bool { read.withLock { $0 != nil } }

    /// Whether top-level reader field `slot` is one of the deferred.
    func defers(_ slot: Int) -> Bool { slots.contains(slot) }

    /// The whole record and the photometry, read once (later calls return the same).
    func parts(head: AvroRecord) -> Parts {
        read.withLock { cached in
            if let cached { return cached }
            var whole = head
            for slot in slots {
                // Checked at decoding (see above); were it to fail, the field stays null rather than stop the service.
                whole.values[slot] = (try? record.withBytes { (raw) throws(AlertDecodingError) in
                    try reader.readTopField(slot, raw, writerFields: writerFields)
                }) ?? .null
            }
            let (history, forced) = mapping.photometry(of: whole)
            let parts = Parts(record: whole, history: history, forcedPhotometry: forced)
            cached = parts
            return parts
        }
    }
}

/// A record's bytes inside a message kept whole (`bytes[offset ..< offset + count]`): alerts share
/// their message's storage instead of copying a quarter-megabyte record each.
struct RecordStorage: Sendable {
    let bytes: [UInt8]
    let offset: Int
    let count: Int

    init(bytes: [UInt8], offset: Int, count: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.count = count ?? bytes.count - offset
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(AlertDecodingError) -> R) throws(AlertDecodingError) -> R {
        try Avro.withBytes(bytes) { (all) throws(AlertDecodingError) in
            try body(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + count)]))
        }
    }
}
