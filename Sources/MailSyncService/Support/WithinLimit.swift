import NIOConcurrencyHelpers

/// Runs `work` unstructured and returns its value if it ends within `limit`, else `fallback`
/// (the work is left running: nothing here can cancel a thread blocked in SQLite or libcurl).
///
/// For waits that must not hang on what they wait for: the readiness check's database probe,
/// the last ship of backups at shutdown.
func withinLimit<T: Sendable>(_ limit: Duration, otherwise fallback: T, _ work: @escaping @Sendable () async -> T) async -> T {
    let once = NIOLockedValueBox(false)
    return await withCheckedContinuation { continuation in
        let resume: @Sendable (T) -> Void = { value in
            let first = once.withLockedValue { done in
                defer { done = true }
                return !done
            }
            if first { continuation.resume(returning: value) }
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            resume(fallback)
        }
        Task {
            resume(await work())
            timer.cancel()
        }
    }
}
