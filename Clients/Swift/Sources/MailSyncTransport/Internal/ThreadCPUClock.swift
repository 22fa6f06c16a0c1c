#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time of the calling thread, for timing a job without counting the time the thread was
/// preempted (a loaded machine would otherwise make cheap jobs look long).
enum ThreadCPUClock {
    /// Nanoseconds of CPU the calling thread has used; 0 if the clock cannot be read.
    static func nanoseconds() -> UInt64 {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return 0 }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Nanoseconds from `start` (a reading of `nanoseconds()` on this thread) to now; 0 if the
    /// clock went backwards or could not be read.
    static func since(_ start: UInt64) -> UInt64 {
        let now = nanoseconds()
        return now >= start ? now - start : 0
    }
}
