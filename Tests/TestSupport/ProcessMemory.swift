import Foundation

/// This process's memory as Linux reports it in `/proc/self/status`, for tests that bound what a
/// peer can make the server hold.
public enum ProcessMemory {
    /// Resident set size now (`VmRSS`), in bytes; nil where /proc is not there.
    public static func resident() -> Int? { field("VmRSS") }

    /// Highest resident set size since start or the last ``resetPeak()`` (`VmHWM`), in bytes.
    public static func peak() -> Int? { field("VmHWM") }

    /// Resets ``peak()`` to the current resident size (writes `5` to `/proc/self/clear_refs`,
    /// Linux 4.0+). Returns false where that is not possible; then measure by sampling instead.
    @discardableResult
    public static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("5".utf8))
            return true
        } catch {
            return false
        }
    }

    private static func field(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let number = line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
            return number.map { $0 * 1024 }  // reported in kB
        }
        return nil
    }
}
