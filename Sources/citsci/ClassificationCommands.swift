import Basics
import Kafka
import State
import Zooniverse
import Classifications
import ArgumentParser
import Foundation

/// How subjects retire, shared by `aggregate` and `publish`.
struct RetirementOptions: ParsableArguments {
    @Option(help: "Retire a subject after this many volunteers (0: never by count).")
    var retireAfter: Int = 15

    @Option(help: "Or retire once the consensus agreement reaches this (0 to 1)...")
    var agreement: Double?

    @Option(help: "...with at least this many volunteers.")
    var minimum: Int = 5

    @Option(help: "The task the agreement rule reads (default: the first question task).")
    var task: String?

    func rule() throws -> RetirementRule {
        if let agreement, !(0...1).contains(agreement) { throw ValidationError("--agreement \(agreement): expected 0 to 1") }
        return RetirementRule(classifications: retireAfter > 0 ? retireAfter : nil, agreement: agreement, minimum: minimum, task: task)
    }
}

/// Volunteer weighting (SWAP), off unless a task and its positive answer are given.
struct WeightingOptions: ParsableArguments {
    @Option(help: "Weight volunteers by skill (SWAP) on this question task...")
    var swapTask: String?

    @Option(help: "...reading this answer as positive (e.g. Real); skills are learned from gold-standard subjects.")
    var swapPositive: String?

    @Option(help: "SWAP: the probability a subject is positive before anyone classifies it.")
    var swapPrior: Double = 0.5

    @Option(help: "SWAP: the skill of a volunteer never seen on a gold subject (0.5: no weight).")
    var swapInitialSkill: Double = 0.5

    func swap() throws -> SWAP? {
        switch (swapTask, swapPositive) {
        case (nil, nil): return nil
        case (let task?, let positive?):
            guard (0...1).contains(swapPrior), swapPrior > 0, swapPrior < 1 else { throw ValidationError("--swap-prior \(swapPrior): expected between 0 and 1") }
            guard (0...1).contains(swapInitialSkill) else { throw ValidationError("--swap-initial-skill \(swapInitialSkill): expected 0 to 1") }
            return SWAP(task: task, positive: positive, prior: swapPrior, initialSkill: swapInitialSkill)
        default: throw ValidationError("--swap-task and --swap-positive go together")
        }
    }
}

/// Where classifications come from: export files, and/or those pulled into the state store.
struct ClassificationSource: ParsableArguments {
    @Option(name: .customLong("export"), help: "A Panoptes classification export (CSV); repeatable.")
    var exports: [String] = []

    @Option(help: "State store (SQLite) holding pulled classifications (used when it exists).")
    var state: String = "citsci.sqlite"

    @Option(help: "Only this workflow.")
    var workflow: String?

    func aggregate(rule: RetirementRule, swap: SWAP? = nil) throws -> (Aggregator, StateStore?) {
        var aggregator = Aggregator(rule: rule, swap: swap)
        var store: StateStore? = nil
        if FileManager.default.fileExists(atPath: state) || exports.isEmpty {
            store = try StateStore(path: state)
            for c in try store!.classifications(workflow: workflow) { aggregator.add(c) }
        }
        for path in exports {
            for c in try ClassificationExport.read(path) where workflow == nil || c.workflowID == workflow { aggregator.add(c) }
        }
        return (aggregator, store)
    }
}

struct ClassificationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classifications",
        abstract: "Bring volunteers' classifications back from Zooniverse.",
        subcommands: [ClassificationsPull.self, ClassificationsExport.self])
}

struct ClassificationsPull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull a project's new classifications through the Panoptes API into the state store.",
        discussion: """
        Uses GET /api/classifications/project (you must be able to edit the project), from where the last pull
        stopped: each page is stored with the position in one transaction, so an interrupted pull resumes
        without skipping or repeating a classification. Answer indices become the workflow's labels.
        """)

    @OptionGroup var panoptes: PanoptesOptions

    @Option(help: "Zooniverse project id or slug.")
    var project: String

    @Option(name: .customLong("workflow"), help: "A workflow to pull (repeatable; default: all of the project's).")
    var workflows: [String] = []

    @Option(help: "State store (SQLite).")
    var state: String = "citsci.sqlite"

    @Option(help: "Stop after this many pages of 100.")
    var maxPages: Int?

    func run() throws {
        var pull = ClassificationPull(client: try panoptes.client(), state: try StateStore(path: state), project: project, workflows: workflows)
        pull.maxPages = maxPages
        print(try pull.run { printError("citsci classifications pull: \($0)") })
    }
}

struct ClassificationsExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Download the project's classification export (for backfill and offline work), asking for a new one if told.",
        discussion: """
        --generate asks Zooniverse for a fresh export first (it makes one a day per project; a refused request falls
        back to the latest export) and waits until it is ready. --import also stores its classifications in the state
        store, where pulled ones and exported ones are kept once each (by classification id).
        """)

    @OptionGroup var panoptes: PanoptesOptions

    @Option(help: "Zooniverse project id or slug.")
    var project: String

    @Option(help: "Where to write the CSV.")
    var output: String

    @Flag(help: "Ask for a new export first.")
    var generate = false

    @Option(help: "Seconds to wait for the export to be ready.")
    var wait: Double = 3600

    @Flag(help: "Store the export's classifications in the state store too.")
    var importClassifications = false

    @Option(help: "State store (SQLite), for --import-classifications.")
    var state: String = "citsci.sqlite"

    func run() throws {
        let client = try panoptes.client()
        let p = try client.project(project)
        if generate {
            let asked = Result { () throws(PanoptesError) in try client.requestClassificationsExport(project: p.id) }
            if case .failure(let e) = asked {
                guard e.status == 429 || e.status == 422 else { throw e }
                printError("citsci classifications export: Zooniverse refused a new export (\(e.message)); using the latest")
            }
        }
        let deadline = Date().addingTimeInterval(wait)
        var export = try client.classificationsExport(project: p.id)
        while let e = export, !e.isReady {
            guard Date() < deadline else { throw ValidationError("the export of project \(p.id) is still \(e.state) after \(Int(wait)) s: try again later") }
            Thread.sleep(forTimeInterval: 2)
            export = try client.classificationsExport(project: p.id)
        }
        guard let export, let url = export.url else {
            throw ValidationError("project \(p.id) has no classification export yet: run with --generate (Zooniverse makes one a day)")
        }
        let bytes = try client.download(url)
        try Data(bytes).write(to: URL(fileURLWithPath: output), options: .atomic)
        let classifications = try ClassificationExport.read(output)
        var line = "\(classifications.count) classifications in \(output)"
        if let at = export.updatedAt { line += " (export of \(ISO8601DateFormatter().string(from: at)))" }
        if importClassifications {
            line += ", \(try StateStore(path: state).store(classifications, project: p.id)) new in \(state)"
        }
        print(line)
    }
}

struct Aggregate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Aggregate classifications per subject and task (from exports and/or the state store).",
        discussion: """
        Each volunteer counts once, by their latest classification of the subject. Question tasks give each answer's
        count and fraction and the consensus (most_likely, num_votes, agreement) as panoptes_aggregation defines it;
        survey tasks give choice counts. --format table (default) prints one line per subject and task; json prints
        one JSON object per subject.
        """)

    @OptionGroup var source: ClassificationSource
    @OptionGroup var retirement: RetirementOptions
    @OptionGroup var weighting: WeightingOptions

    @Option(help: "table or json.")
    var format: String = "table"

    func run() throws {
        guard ["table", "json"].contains(format) else { throw ValidationError("--format \(format): expected table or json") }
        let (aggregator, store) = try source.aggregate(rule: try retirement.rule(), swap: try weighting.swap())
        var results = aggregator.results
        // Subjects citsci pushed: their alert ids and provenance from the state store.
        if let store {
            for i in results.indices where results[i].metadata["#alert_id"] == nil {
                if let pushed = try store.pushedSubject(zooniverseID: results[i].subjectID) {
                    results[i].metadata.merge(pushed.metadata) { old, _ in old }
                }
            }
        }
        for r in results {
            if format == "json" { print(Self.json(r)); continue }
            let alert = (r.metadata["#alert_id"]?.string.map { " alert \($0)" } ?? "") + (r.posterior.map { String(format: " P(positive) %.3f", $0) } ?? "")
            for t in r.tasks {
                let answers = t.counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                let consensus = t.mostLikely.map { " → \($0) (\(t.numVotes) votes, agreement \(String(format: "%.2f", t.agreement ?? 0)))" } ?? ""
                print("workflow \(r.workflowID) subject \(r.subjectID)\(alert) \(t.task) [\(t.kind.rawValue)] \(t.volunteers) volunteers: \(answers)\(consensus)\(r.retired ? " retired" : "")")
            }
        }
        printError("citsci aggregate: \(results.count) subjects, \(results.filter(\.retired).count) retired (\(try retirement.rule()))")
    }

    static func json(_ r: SubjectResult) -> String {
        let tasks: [JSONValue] = r.tasks.map { t in
            ["task": .string(t.task), "kind": .string(t.kind.rawValue), "volunteers": .number(Double(t.volunteers)),
             "counts": .object(t.counts.mapValues { .number(Double($0)) }), "fractions": .object(t.fractions.mapValues(JSONValue.number)),
             "most_likely": t.mostLikely.map(JSONValue.string) ?? .null, "num_votes": .number(Double(t.numVotes)),
             "agreement": t.agreement.map(JSONValue.number) ?? .null]
        }
        let doc: JSONValue = ["workflow_id": .string(r.workflowID), "subject_id": .string(r.subjectID),
                              "volunteers": .number(Double(r.volunteers)), "classifications": .number(Double(r.classifications)),
                              "retired": .bool(r.retired), "alert_id": r.metadata["#alert_id"] ?? .null,
                              "posterior": r.posterior.map(JSONValue.number) ?? .null, "tasks": .array(tasks)]
        return doc.description
    }
}

struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish the aggregates that changed to a Kafka topic (Avro, Confluent wire format, keyed by object id).",
        discussion: """
        Records follow schemas/classification-result.avsc. With --schema-registry the schema is registered under
        <topic>-value and its id used; otherwise --schema-id names it. A subject's record is sent when its aggregate
        changed since the last one sent (at most once per --debounce seconds) and at once when it retires; what
        was sent is recorded in the state store after the broker acknowledged it (at-least-once: a restart can
        repeat a record with the same version). --lasair-topic also sends Lasair's annotation JSON.
        """)

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var source: ClassificationSource
    @OptionGroup var retirement: RetirementOptions
    @OptionGroup var weighting: WeightingOptions

    @Option(help: "Topic for the results.")
    var topic: String

    @Option(help: "Schema id to frame records with (when no registry is given).")
    var schemaId: UInt32?

    @Option(help: "Confluent-compatible schema registry to register the result schema with.")
    var schemaRegistry: String?

    @Option(help: "Seconds between two records of the same subject (retirement goes at once).")
    var debounce: Double = 300

    @Option(help: "Zooniverse project id, for results whose subjects citsci did not push.")
    var project: String?

    @Option(help: "The project's slug (owner/name), for links to subjects' Talk pages in Lasair annotations.")
    var projectSlug: String?

    @Option(help: "Also send Lasair annotations (JSON) to this topic.")
    var lasairTopic: String?

    @Flag(help: "Retire subjects on Zooniverse too when the rule retires them (credentials as for push).")
    var retireOnZooniverse = false

    @OptionGroup var panoptes: PanoptesOptions

    func run() async throws {
        let id: UInt32
        if let schemaRegistry {
            id = try SchemaOptions.registry(schemaRegistry).register(schemaJSON: ClassificationResultRecord.schemaJSON, subject: topic + "-value")
        } else if let schemaId {
            id = schemaId
        } else {
            throw ValidationError("give --schema-registry URL (the schema is registered there) or --schema-id N")
        }
        let rule = try retirement.rule()
        let swap = try weighting.swap()
        let (aggregator, store) = try source.aggregate(rule: rule, swap: swap)
        let state = try store ?? StateStore(path: source.state)
        let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: kafka.brokers, properties: try kafka.parsedProperties()))
        defer { producer.close() }
        var options = ResultPublisher.Options(topic: topic, schemaID: id, rule: rule)
        options.debounce = debounce
        options.projectID = project
        options.projectSlug = projectSlug
        options.lasairTopic = lasairTopic
        options.lasairTask = retirement.task
        options.swap = swap
        if retireOnZooniverse { options.retireOn = try panoptes.client() }
        let report = try await ResultPublisher(producer: producer, state: state, options: options).publish(aggregator.results)
        try producer.flush()
        print("\(report) to \(topic) (schema id \(id))")
    }
}
