import Foundation

/// Pulls a project's new classifications through the Panoptes API into the state store, page by
/// page: each page is stored with the pull's new position in one transaction, so a pull stopped
/// anywhere resumes after the last page stored, skipping nothing and counting nothing twice.
public struct ClassificationPull: Sendable {
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        public var received = 0
        public var new = 0
        public var pages = 0
        public var skipped = 0
        public var description: String {
            "\(new) new classifications (\(received) received in \(pages) pages" + (skipped > 0 ? ", \(skipped) unreadable skipped" : "") + ")"
        }
    }

    public let client: PanoptesClient
    public let state: StateStore
    /// Project id or slug.
    public let project: String
    /// The workflows to pull (default: all of the project's).
    public let workflows: [String]
    public var pageSize = 100
    /// Stop after this many pages (for a bounded run; nil: until the end).
    public var maxPages: Int?

    public init(client: PanoptesClient, state: StateStore, project: String, workflows: [String] = []) {
        self.client = client
        self.state = state
        self.project = project
        self.workflows = workflows
    }

    public func run(progress: ((String) -> Void)? = nil) throws -> Report {
        let p = try client.project(project)
        var report = Report()
        for id in workflows.isEmpty ? p.workflowIDs : workflows {
            let workflow = try client.workflow(id)
            let cursor = try state.pullCursor(project: p.id, workflow: id)
            try client.classifications(project: p.id, workflow: id, after: cursor, pageSize: pageSize) { items in
                let parsed = items.compactMap { Classification(api: $0, workflow: workflow) }
                report.skipped += items.count - parsed.count
                report.received += items.count
                let last = items.compactMap { $0["id"]?.id.flatMap { Int64($0) } }.max()
                report.new += try state.store(parsed, project: p.id, cursor: last.map { (id, $0) })
                report.pages += 1
                progress?("workflow \(id): page \(report.pages), \(report.new) new so far")
                return maxPages.map { report.pages < $0 } ?? true
            }
        }
        return report
    }
}
