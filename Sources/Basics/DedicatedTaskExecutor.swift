import Foundation

/// A few threads of their own, for tasks that block (SQLite, file writes and fsync, libcurl, a
/// producer's flush) and for tasks that must answer while others block (the HTTP servers). Swift's
/// cooperative pool has one thread per core: a blocking call there takes a core from everything
/// else. Tasks prefer these threads with `withTaskExecutorPreference` or `Task(executorPreference:)`;
/// child tasks and default actors inherit the preference.
package final class DedicatedTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is touched only under `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    /// The pipeline's blocking stage (the state store, the sink's files): started on first use and
    /// kept for the process's life.
    package static let blocking = DedicatedTaskExecutor(threads: 2, name: "citsci-blocking")

    package init(threads: Int, name: String) {
        for i in 0..<threads {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "\(name)-\(i)"
            thread.start()
        }
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head > 1024, head * 2 > jobs.count {  // drop the run part of the queue now and then
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
