import NIOCore

/// Runs tasks on a NIO event loop, so a handler started for a call on that loop runs where its
/// frames arrive and its replies are written: no hop to the cooperative pool and back.
///
/// Used for every handler when `ServerConfiguration.runsHandlersOnEventLoop` is on (no `watch`),
/// and for unary handlers when `runsUnaryHandlersOnEventLoop` is on (with the method's `watch`).
/// Work that blocks (SQLite, libcurl) must still go to its own threads, as it must anyway.
///
/// With a watch, every job (the handler's code between two suspension points, and the code of
/// default actors it calls, which run on the task's preferred executor) is timed, in wall time or,
/// when the watch asks, in thread CPU time (`JobClock`). Once the watch finds the method heavy (`LoopSliceWatch`), that call's later jobs, and
/// every later call of the method, run on Swift's global concurrent executor instead.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let eventLoop: any EventLoop
    let watch: LoopSliceWatch?

    init(_ eventLoop: any EventLoop, watch: LoopSliceWatch? = nil) {
        self.eventLoop = eventLoop
        self.watch = watch
    }

    func enqueue(_ job: consuming ExecutorJob) {
        guard let watch else {
            let job = UnownedJob(job)
            eventLoop.execute {
                job.runSynchronously(on: self.asUnownedTaskExecutor())
            }
            return
        }
        if watch.isHeavy {
            // The task keeps its preference for this executor; its jobs are passed on.
            globalConcurrentExecutor.enqueue(job)
            return
        }
        let job = UnownedJob(job)
        eventLoop.execute {
            if watch.timesCPU {
                let started = JobClock.threadCPU()
                job.runSynchronously(on: self.asUnownedTaskExecutor())
                watch.ran(cpuNanoseconds: JobClock.elapsed(from: started, to: JobClock.threadCPU()))
            } else {
                let started = JobClock.monotonic()
                job.runSynchronously(on: self.asUnownedTaskExecutor())
                watch.ran(wallNanoseconds: JobClock.elapsed(from: started, to: JobClock.monotonic()))
            }
        }
    }

    func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }
}
