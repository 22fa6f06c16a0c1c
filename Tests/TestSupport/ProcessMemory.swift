import Foundation

/// This process's memory as Linux reports it in `/proc/self/status`, for tests that bound what a
/// peer can make the server hold.
public enum ProcessMemory {
    /// Resident set size now (`VmRSS`) of this process or of `pid`, in bytes; nil where /proc
    /// is not there (or the process is gone).
    public static func resident(pid: Int32? = nil) -> Int? { field("VmRSS", pid: pid) }

    /// Highest resident set size since start or the last ``resetPeak(pid:)`` (`VmHWM`), in bytes.
    public static func peak(pid: Int32? = nil) -> Int? { field("VmHWM", pid: pid) }

    /// Resets ``peak(pid:)`` to the current resident size (writes `5` to `/proc/<pid>/clear_refs`,
    /// Linux 4.0+). Returns false where that is not possible; then measure by sampling instead.
    @discardableResult
    public static func resetPeak(pid: Int32? = nil) -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/\(pid.map(String.init) ?? "self")/clear_refs") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("5".utf8))
            return true
        } catch {
            return false
        }
    }

    private static func field(_ name: String, pid: Int32?) -> Int? {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let number = line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
            return number.map { $0 * 1024 }  // reported in kB
        }
        return nil
    }
}
