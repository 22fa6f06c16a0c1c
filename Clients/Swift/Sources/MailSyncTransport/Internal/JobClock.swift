#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The clocks that time a handler's jobs on an event loop (`LoopSliceWatch`).
///
/// The monotonic clock is cheap (no system call: about 0.03 µs here) but counts the time the thread
/// was preempted, which a loaded machine makes long; the calling thread's CPU clock does not, but
/// reading it is a system call (about 0.84 µs on this project's VM). So jobs are timed on the first
/// and checked on the second only when the first says they may be long.
enum JobClock {
    /// Nanoseconds on the monotonic clock; 0 if it cannot be read.
    static func monotonic() -> UInt64 {
        read(CLOCK_MONOTONIC)
    }

    /// Nanoseconds of CPU the calling thread has used; 0 if the clock cannot be read.
    static func threadCPU() -> UInt64 {
        read(CLOCK_THREAD_CPUTIME_ID)
    }

    /// Nanoseconds from `start` to `end`; 0 if a clock went backwards or could not be read.
    static func elapsed(from start: UInt64, to end: UInt64) -> UInt64 {
        end >= start ? end - start : 0
    }

    private static func read(_ clock: clockid_t) -> UInt64 {
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return 0 }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
