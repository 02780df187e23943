import State
import Subjects
import Zooniverse
import Service
import ArgumentParser
import Foundation

/// Where and as whom to reach Zooniverse. Secrets only from the environment.
struct PanoptesOptions: ParsableArguments {
    @Option(help: "Panoptes API endpoint (or PANOPTES_ENDPOINT): https://www.zooniverse.org, or https://panoptes-staging.zooniverse.org.")
    var endpoint: String?

    @Option(help: "At most this many requests a second to Zooniverse.")
    var requestsPerSecond: Double = 10

    @Option(help: "Seconds before a request without an answer is given up (and retried when safe).")
    var timeout: Double = 60

    func client() throws -> PanoptesClient {
        guard let credentials = PanoptesCredentials.fromEnvironment() else {
            throw ValidationError("""
                no Zooniverse credentials: set PANOPTES_CLIENT_ID and PANOPTES_CLIENT_SECRET (a service account's OAuth \
                application), or PANOPTES_USERNAME, PANOPTES_PASSWORD and PANOPTES_CLIENT_ID, or PANOPTES_TOKEN
                """)
        }
        var configuration = PanoptesClient.Configuration(
            endpoint: endpoint ?? Environment.get("PANOPTES_ENDPOINT") ?? "https://www.zooniverse.org", credentials: credentials)
        configuration.requestsPerSecond = requestsPerSecond
        configuration.timeout = timeout
        return PanoptesClient(configuration)
    }
}

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push subject-set folders (from the folder sink) to a Zooniverse project, exactly once.",
        discussion: """
        DIR is the folder sink (every set folder in it) or one set folder. Each subject is created, its frames
        uploaded and it is linked to its set, which is created (and linked to the workflow) when needed. Progress
        is kept in the state store, so a push that stops at any point is finished by running it again: no subject
        is made twice (the alert id is its key). The data-rights gate holds: before the project is approved
        (--approved), at most 100 subjects in all; after, at most 10,000 per set; no new set while 3 of the
        project's sets are incomplete; never beyond the account's subject_limit. Subjects the gate holds are
        recorded with the reason and go out on a later push once it opens. Exit status 1 if any subject failed,
        2 if some are held.
        """)

    @OptionGroup var panoptes: PanoptesOptions

    @Argument(help: "The folder sink, or one subject-set folder.")
    var dir: String

    @Option(help: "Zooniverse project id or slug (owner/name).")
    var project: String

    @Option(help: "Workflow to link new sets to (default: the one each set.json names).")
    var workflow: String?

    @Flag(help: "The project is approved by Rubin's data-rights panel: 10,000 subjects per set instead of 100 in all.")
    var approved = false

    @Option(help: "State store (SQLite).")
    var state: String = "citsci.sqlite"

    @Option(help: "Subjects worked on at once.")
    var concurrency: Int = 4

    @Flag(help: "Push open sets too (default: closed sets only, so a set goes out whole).")
    var includeOpen = false

    func run() throws {
        let all = SubjectSetFolder.list(dir)
        let folders = includeOpen ? all : SubjectSetFolder.closed(in: dir)
        guard !all.isEmpty else { throw ValidationError("\(dir): no subject-set folder (a folder with set.json and manifest.csv) here") }
        if folders.count < all.count {
            printError("citsci push: \(all.count - folders.count) open sets left for later (--include-open pushes them now)")
        }
        var options = ZooniversePush.Options(project: project)
        options.workflow = workflow
        options.approved = approved
        options.concurrency = max(1, concurrency)
        let push = ZooniversePush(client: try panoptes.client(), state: try StateStore(path: state), options: options)
        let report = try push.push(folders: folders) { printError("citsci push: \($0)") }
        print(report)
        if !report.failed.isEmpty { throw ExitCode(1) }
        if !report.held.isEmpty { throw ExitCode(2) }
    }
}

struct ZooniverseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zooniverse",
        abstract: "Check the Zooniverse account and project citsci pushes to.",
        subcommands: [ZooniverseLogin.self, ZooniverseStatus.self])
}

struct ZooniverseLogin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in with the credentials in the environment and show the account and its subject limit.")

    @OptionGroup var panoptes: PanoptesOptions

    func run() throws {
        let client = try panoptes.client()
        let lifetime = try client.login()
        let me = try client.me()
        print("logged in to \(client.configuration.endpoint) as \(me.login) (id \(me.id)) with \(client.configuration.credentials); token valid \(Int(lifetime / 60)) min")
        print("subjects uploaded: \(me.uploadedSubjects) of \(me.subjectLimit.map(String.init) ?? "no limit")")
    }
}

struct ZooniverseStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The account's subject limit, the project's sets and their completeness, and the local push state.")

    @OptionGroup var panoptes: PanoptesOptions

    @Option(help: "Zooniverse project id or slug.")
    var project: String

    @Option(help: "State store (SQLite) of earlier pushes.")
    var state: String = "citsci.sqlite"

    func run() throws {
        let client = try panoptes.client()
        let me = try client.me()
        let p = try client.project(project)
        print("account \(me.login): \(me.uploadedSubjects) of \(me.subjectLimit.map(String.init) ?? "unlimited") subjects uploaded" +
              (me.remainingSubjects.map { ", \($0) left" } ?? ""))
        print("project \(p.id) \(p.slug ?? "") \"\(p.displayName)\": workflows \(p.workflowIDs.joined(separator: ", "))")
        let sets = try client.subjectSets(project: p.id)
        for s in sets.sorted(by: { (Int($0.id) ?? 0) < (Int($1.id) ?? 0) }) {
            let completeness = s.completeness.sorted { $0.key < $1.key }.map { "workflow \($0.key) \(Int(($0.value * 100).rounded()))%" }
            print("  set \(s.id) \(s.displayName): \(s.memberCount) subjects, " +
                  (completeness.isEmpty ? "on no workflow" : completeness.joined(separator: ", ")) + (s.isIncomplete ? " (incomplete)" : ""))
        }
        print("\(sets.filter(\.isIncomplete).count) incomplete sets (no new set is opened while 3 are)")
        guard FileManager.default.fileExists(atPath: state) else { print("no local state at \(state)"); return }
        let summary = try ZooniversePush.summary(state: try StateStore(path: state), project: p.id)
        print("local state \(state): " + summary.states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        for (reason, n) in summary.held.sorted(by: { $0.key < $1.key }) { print("  held \(n): \(reason)") }
    }
}
