import Basics
import AlertModel
import Avro
import Kafka
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import State
import Synchronization

/// Alerts from Kafka through the pipeline. Offsets are committed only for messages whose effects are
/// durable (subjects in the state store, or a dead letter); on graceful shutdown it stops taking
/// messages, commits what is done, and returns.
package struct KafkaIngestService: Service {
    package let consumer: KafkaConsumer
    package let ingest: AlertIngest
    package let pipeline: AlertPipeline
    package let deadLetters: any DeadLetterSink
    /// Decoded messages that may wait for the render stage before the consumer pauses.
    package let queueCapacity: Int
    /// The same queue's bound in bytes.
    package let queueBytes: Int
    /// Parallel decode/filter/render tasks, and messages per durable batch (`RunConfiguration`).
    package let workers: Int
    package let batch: Int
    /// Stop after this long without a message (for one-pass runs); nil: run until shut down.
    package let idleTimeout: Duration?
    package let logger: Logger

    package init(consumer: KafkaConsumer, schemas: (any WriterSchemaSource)?, pipeline: AlertPipeline,
                deadLetters: any DeadLetterSink, queueCapacity: Int = 1000, queueBytes: Int = .max, workers: Int = 1, batch: Int = 1,
                idleTimeout: Duration? = nil, logger: Logger) {
        self.consumer = consumer
        self.ingest = AlertIngest(consumer: consumer, schemas: schemas, deadLetters: deadLetters)
        self.pipeline = pipeline
        self.deadLetters = deadLetters
        self.queueCapacity = queueCapacity
        self.queueBytes = queueBytes
        self.workers = workers
        self.batch = batch
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    /// Consumer lag per partition, the decoded-message queue and whether it paused the consumer,
    /// as gauges, every `interval` until cancelled.
    static func reportQueues(_ consumer: KafkaConsumer, _ ingest: AlertIngest, every interval: Duration) async throws {
        let depth = Gauge(label: "citsci_queue_depth", dimensions: [("stage", "decoded")])
        let bytes = Gauge(label: "citsci_queue_bytes", dimensions: [("stage", "decoded")])
        let paused = Gauge(label: "citsci_consumer_paused")
        let pauses = Gauge(label: "citsci_consumer_pauses")
        let inFlight = Gauge(label: "citsci_messages_in_flight")
        var lagGauges: [OffsetTracker.Partition: Gauge] = [:]
        while true {
            let q = ingest.queue
            depth.record(q.depth)
            bytes.record(q.bytes)
            paused.record(q.paused ? 1 : 0)
            pauses.record(q.pauses)
            inFlight.record(consumer.inFlight)
            for (p, lag) in consumer.lag() {
                let g = lagGauges[p] ?? Gauge(label: "citsci_consumer_lag", dimensions: [("topic", p.topic), ("partition", "\(p.partition)")])
                lagGauges[p] = g
                g.record(lag)
            }
            try await Task.sleep(for: interval)
        }
    }

    package func run() async throws {
        let (ingest, pipeline, deadLetters) = (self.ingest, self.pipeline, self.deadLetters)
        let messages = Counter(label: "citsci_messages_total")
        let dead = Counter(label: "citsci_dead_letters_total")
        defer { consumer.close() }  // commits the offsets of the messages done
        let lastActivity = LastActivity()
        let idleTimeout = self.idleTimeout
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    if let idleTimeout {
                        group.addTask {
                            while lastActivity.idle < idleTimeout {
                                try await Task.sleep(for: .milliseconds(200))
                            }
                            throw CancellationError()
                        }
                    }
                    group.addTask { [consumer] in try await Self.reportQueues(consumer, ingest, every: .seconds(1)) }
                    group.addTask { [queueCapacity, queueBytes, workers, batch] in
                        // Decode, filters and flipbooks on `workers` tasks; the state store and the
                        // sink's files, in order, on threads that may block.
                        try await ingest.runStaged(capacity: queueCapacity, capacityBytes: queueBytes, workers: workers, batch: batch,
                                                   executor: DedicatedTaskExecutor.blocking, prepare: pipeline.prepare) { staged in
                            lastActivity.touch()
                            messages.increment(by: staged.count)
                            // Group commit: the batch's subjects and outcomes durable in a few synced writes.
                            let arrivals = staged.flatMap { s in
                                s.items.enumerated().map { i, prepared in
                                    AlertPipeline.Arrival(prepared: prepared, origin: s.message, packet: s.message.value, index: i,
                                                          source: s.message.position)
                                }
                            }
                            try await pipeline.handleInOrder(arrivals) { item, error in
                                dead.increment()
                                try await deadLetters.store(DeadLetter(message: item.origin, kind: "render",
                                                                       reason: "alert \(item.prepared.alert.alertId): \(error)"))
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            logger.info("ingest stopped", metadata: ["messages": "\(ingest.counts.messages)", "alerts": "\(ingest.counts.alerts)"])
        }
    }
}

/// Alerts from a folder of .avro files (the embedded default). New files are picked up every
/// `pollInterval`; with `once`, one pass and it returns. Files seen again cost nothing: each alert's
/// subjects are recorded once.
///
/// As on Kafka, the work runs in two stages: files are read, decoded, filtered and their matches'
/// flipbooks drawn on `workers` tasks, a few files per worker at a time, while the files before
/// them go through the ordered stage (the state store and the sink, group commit) on threads that
/// may block.
package struct FolderIngestService: Service {
    package let folder: String
    package let schemas: (any WriterSchemaSource)?
    package let pipeline: AlertPipeline
    package let deadLetters: any DeadLetterSink
    package let once: Bool
    package let workers: Int
    package let pollInterval: Duration
    package let logger: Logger

    package init(folder: String, schemas: (any WriterSchemaSource)?, pipeline: AlertPipeline, deadLetters: any DeadLetterSink,
                once: Bool, workers: Int = 1, pollInterval: Duration = .seconds(5), logger: Logger) {
        self.folder = folder
        self.schemas = schemas
        self.pipeline = pipeline
        self.deadLetters = deadLetters
        self.once = once
        self.workers = max(1, workers)
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// A file after the parallel stage.
    struct FileWork: Sendable {
        enum Content: Sendable {
            case unreadable(String)
            case undecodable(kind: String, reason: String)
            case prepared([AlertPipeline.Prepared])
        }
        let path: String
        let index: Int
        let bytes: [UInt8]
        let content: Content
    }

    package func run() async throws {
        let decoders = DecoderPool((0..<workers).map { _ in AlertDecoder(schemas: schemas) })
        var seen: [String: Date] = [:]
        // Cancellation (another service failed) ends the loop as a graceful shutdown does: a sleep
        // that throws at once must not turn this into a spin.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var due: [(path: String, index: Int)] = []
            for (index, path) in Self.avroFiles(folder).enumerated() {
                let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? nil
                if let modified, seen[path] == modified { continue }
                seen[path] = modified ?? Date()
                due.append((path, index))
            }
            try await process(due, decoders: decoders)
            if once { return }
            do { try await cancelWhenGracefulShutdown { [pollInterval] in try await Task.sleep(for: pollInterval) } } catch { return }
        }
    }

    /// The files in chunks of a few per worker: each chunk's parallel stage runs while the chunk
    /// before it is in the ordered stage (two chunks in memory at most).
    private func process(_ files: [(path: String, index: Int)], decoders: DecoderPool) async throws {
        let chunkSize = workers * 4
        var chunks = stride(from: 0, to: files.count, by: chunkSize).map { Array(files[$0..<min(files.count, $0 + chunkSize)]) }[...]
        var next: Task<[FileWork], any Error>? = chunks.popFirst().map { chunk in Task { try await prepare(chunk, decoders: decoders) } }
        defer { next?.cancel() }
        while let current = next {
            let work = try await withTaskCancellationHandler { try await current.value } onCancel: { current.cancel() }
            next = chunks.popFirst().map { chunk in Task { try await prepare(chunk, decoders: decoders) } }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try await withTaskExecutorPreference(DedicatedTaskExecutor.blocking) { try await handle(work) }
        }
    }

    /// Reads, decodes and prepares the files on up to `workers` tasks, each with its own decoder;
    /// returns them in order.
    private func prepare(_ files: [(path: String, index: Int)], decoders: DecoderPool) async throws -> [FileWork] {
        let parts = min(decoders.count, files.count)
        let size = (files.count + parts - 1) / parts
        var out = [[FileWork]](repeating: [], count: parts)
        try await withThrowingTaskGroup(of: (Int, [FileWork]).self) { group in
            for p in 0..<parts {
                let slice = files[(p * size)..<min(files.count, (p + 1) * size)]
                group.addTask { [pipeline] in
                    var done: [FileWork] = []
                    for (path, index) in slice {
                        try Task.checkCancellation()
                        let bytes: [UInt8]
                        do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                            done.append(FileWork(path: path, index: index, bytes: [], content: .unreadable(FolderError.reason(of: error))))
                            continue
                        }
                        let alerts: [Alert]
                        do throws(AlertDecodingError) { alerts = try decoders[p].decode(bytes, source: path) } catch {
                            done.append(FileWork(path: path, index: index, bytes: bytes,
                                                 content: .undecodable(kind: error.kind.rawValue, reason: error.description)))
                            continue
                        }
                        done.append(FileWork(path: path, index: index, bytes: bytes, content: .prepared(alerts.map(pipeline.prepare))))
                    }
                    return (p, done)
                }
            }
            for try await (p, part) in group { out[p] = part }
        }
        return out.flatMap { $0 }
    }

    /// The ordered stage of a chunk: dead letters for the files that could not be read or decoded,
    /// then the alerts' subjects and outcomes, durable together (group commit).
    private func handle(_ work: [FileWork]) async throws {
        let files = Counter(label: "citsci_files_total")
        let dead = Counter(label: "citsci_dead_letters_total")
        files.increment(by: work.count)
        var arrivals: [AlertPipeline.Arrival<FileWork>] = []
        for file in work {
            switch file.content {
            case .unreadable(let why):
                // A dangling link or a file without read permission: kept as a dead letter with the reason.
                dead.increment()
                let reason = "cannot read \(file.path): \(why)"
                logger.warning("\(reason)")
                try await deadLetters.store(DeadLetter(file: file.path, index: file.index, bytes: [], kind: "unreadable", reason: reason))
            case .undecodable(let kind, let reason):
                dead.increment()
                logger.warning("cannot decode \(file.path): \(reason)")
                try await deadLetters.store(DeadLetter(file: file.path, index: file.index, bytes: file.bytes, kind: kind, reason: reason))
            case .prepared(let alerts):
                for (i, prepared) in alerts.enumerated() {
                    arrivals.append(.init(prepared: prepared, origin: file, packet: file.bytes, index: i, source: file.path))
                }
            }
        }
        try await pipeline.handleInOrder(arrivals) { item, error in
            dead.increment()
            logger.warning("alert \(item.prepared.alert.alertId) in \(item.origin.path): \(error)")
            try await deadLetters.store(DeadLetter(file: item.origin.path, index: item.origin.index, bytes: item.origin.bytes, kind: "render",
                                                   reason: "alert \(item.prepared.alert.alertId): \(error)"))
        }
    }

    /// The .avro files under `folder`, sorted (or the file itself). A folder named `*.avro` is
    /// looked into, not read; a dangling link is listed, so that reading it says why it fails.
    package static func avroFiles(_ folder: String) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) else { return [] }
        guard isDir.boolValue else { return [folder] }
        let items = FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
        return items.filter { $0.hasSuffix(".avro") }.sorted().map { (folder as NSString).appendingPathComponent($0) }.filter { path in
            var isDir: ObjCBool = false
            return !(FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue)
        }
    }
}

/// Simulated alerts (no data needed): `count` Rubin alerts from `AlertSimulator`, then it returns.
package struct SimulatedIngestService: Service {
    package let simulator: AlertSimulator
    package let count: Int
    package let pipeline: AlertPipeline
    package let logger: Logger

    package init(simulator: AlertSimulator, count: Int, pipeline: AlertPipeline, logger: Logger) {
        self.simulator = simulator
        self.count = count
        self.pipeline = pipeline
        self.logger = logger
    }

    package func run() async throws {
        let decoder = AlertDecoder()
        for i in 0..<count where !Task.isShuttingDownGracefully {
            let packet = try simulator.packet(i), source = "simulated alert \(i)"
            guard let alert = try decoder.decode(packet, source: source).first else {
                throw AlertDecodingError(.dataDoesNotMatchSchema, "\(source) decoded to nothing", offset: 0)
            }
            try pipeline.handle(alert)
            // The playground's window gets simulated alerts too, so the embedded default shows it working.
            pipeline.recent?.offer([RecentAlerts.Entry(alert, packet: packet, index: 0, source: source, receivedAt: Date().timeIntervalSince1970)])
            if i % 100 == 99 { await Task.yield() }
        }
        logger.info("simulated \(count) alerts")
    }
}

/// When the last message came, shared between the ingest loop and its idle watchdog.
final class LastActivity: Sendable {
    private let last = Mutex(ContinuousClock.now)
    func touch() { last.withLock { $0 = .now } }
    var idle: Duration { last.withLock { ContinuousClock.now - $0 } }
}

extension DeadLetter {
    /// An alert file's bytes as a dead letter (`file_<name>-0-<index>` in a dead-letter folder), with the reason.
    package init(file path: String, index: Int, bytes: [UInt8], kind: String, reason: String) {
        self.init(message: KafkaMessage(topic: "file_" + (path as NSString).lastPathComponent, partition: 0, offset: Int64(index),
                                        key: Array(path.utf8), value: bytes, headers: [], timestamp: nil),
                  kind: kind, reason: reason)
    }
}

/// Counts what goes on to another dead-letter sink: `run --once` reports the number and exits non-zero.
package final class CountingDeadLetters: DeadLetterSink {
    package let inner: any DeadLetterSink
    private let stored = Mutex(0)

    package init(_ inner: any DeadLetterSink) { self.inner = inner }

    package var count: Int { stored.withLock { $0 } }

    package func store(_ letter: DeadLetter) async throws {
        try await inner.store(letter)
        stored.withLock { $0 += 1 }
    }
}

/// Dead letters to a folder made on the first one (no empty folder when nothing goes wrong).
package struct LazyDeadLetterFolder: DeadLetterSink {
    package let path: String
    package init(path: String) { self.path = path }
    package func store(_ letter: DeadLetter) async throws { try await DeadLetterFolder(path: path).store(letter) }
}
