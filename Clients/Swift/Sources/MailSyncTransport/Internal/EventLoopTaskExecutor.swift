import NIOCore

/// Runs tasks on a NIO event loop, so a handler started for a call on that loop runs where its
/// frames arrive and its replies are written: no hop to the cooperative pool and back.
///
/// Used when `ServerConfiguration.runsHandlersOnEventLoop` is on. Work that blocks (SQLite,
/// libcurl) must still go to its own threads, as it must anyway; CPU-heavy handlers delay the
/// other connections of that loop while they run.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }

    func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }
}
