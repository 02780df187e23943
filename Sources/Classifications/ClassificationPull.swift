import State
import Zooniverse
import Foundation

/// Pulls a project's new classifications through the Panoptes API into the state store, page by
/// page: each page is stored with the pull's new position in one transaction, so a pull stopped
/// anywhere resumes after the last page stored, skipping nothing and counting nothing twice.
package struct ClassificationPull: Sendable {
    package struct Report: Sendable, Equatable, CustomStringConvertible {
        package var received = 0
        package var new = 0
        package var pages = 0
        package var skipped = 0
        package var description: String {
            "\(new) new classifications (\(received) received in \(pages) pages" + (skipped > 0 ? ", \(skipped) unreadable skipped" : "") + ")"
        }
    }

    package let client: PanoptesClient
    package let state: StateStore
    /// Project id or slug.
    package let project: String
    /// The workflows to pull (default: all of the project's).
    package let workflows: [String]
    package var pageSize = 100
    /// Stop after this many pages (for a bounded run; nil: until the end).
    package var maxPages: Int?

    package init(client: PanoptesClient, state: StateStore, project: String, workflows: [String] = []) {
        self.client = client
        self.state = state
        self.project = project
        self.workflows = workflows
    }

    package func run(progress: ((String) -> Void)? = nil) throws -> Report {
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
