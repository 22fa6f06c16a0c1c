import Foundation
import TestSupport

enum Report {
    static func mebibytes(_ bytes: Int?) -> String {
        guard let bytes else { return "n/a" }
        return String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    static func rss() -> Int? { ProcessMemory.resident() }

    /// Gives freed heap pages back to the system (glibc `malloc_trim`), so RSS shows what is held,
    /// not what the allocator keeps cached for reuse.
    static func trim() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }

    static func header(_ title: String) {
        let date = ISO8601DateFormatter().string(from: Date())
        print("\(title) — \(date)")
        print("cores: \(ProcessInfo.processInfo.activeProcessorCount); load average at start: \(loadAverage())")
        #if DEBUG
        print("build: debug (numbers are not meaningful; use `make bench` / `make soak`)")
        #else
        print("build: release")
        #endif
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "n/a"
    }
}

#if os(Linux)
/// glibc's `malloc_trim(3)`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
func glibcMallocTrim(_ pad: Int) -> Int32
#endif
