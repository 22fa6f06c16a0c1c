import Foundation

struct Settings {
    /// Target size of the tenant file, in MiB.
    var sizeMB = 1024
    var rounds = 3
    /// Our backup's zlib level and pages per `sqlite3_backup_step` (TenantBackups.Configuration).
    var level: Int32 = 1
    var pagesPerStep: Int32 = 1024
    /// Our deflate threads (nil: the configuration's default, one per core) and whether pages that
    /// do not compress are stored without trying deflate (TenantBackups.Configuration).
    var threads: Int?
    var storesIncompressiblePages = true
    /// The writer's sleep between commits (0: as fast as it can, which grows the file by GBs).
    var writerPauseMs = 10
    /// How long the peer's plain `.backup` may run before it is stopped (it restarts on every
    /// commit by another connection, so under a busy writer it may never end).
    var peerTimeout = 60
    /// Kept (and reused on the next run) instead of a temporary directory removed at the end.
    var dataDirectory: String?
    var skipPlainPeer = false
    /// Only our backup (no peer, verify or restore): for trying levels and step sizes.
    var oursOnly = false

    static func parse(_ arguments: ArraySlice<String>) -> Settings {
        var settings = Settings()
        var arguments = arguments.makeIterator()
        while let argument = arguments.next() {
            func number(allowZero: Bool = false) -> Int {
                guard let text = arguments.next(), let value = Int(text), value > 0 || (allowZero && value == 0) else {
                    fatalError("\(argument) needs a positive number")
                }
                return value
            }
            switch argument {
            case "--size-mb": settings.sizeMB = number()
            case "--rounds": settings.rounds = number()
            case "--level": settings.level = Int32(number(allowZero: true))  // 0: stored, no compression
            case "--pages-per-step": settings.pagesPerStep = Int32(number())
            case "--threads": settings.threads = number()
            case "--no-store": settings.storesIncompressiblePages = false
            case "--writer-pause-ms": settings.writerPauseMs = number(allowZero: true)
            case "--peer-timeout": settings.peerTimeout = number()
            case "--no-plain-peer": settings.skipPlainPeer = true
            case "--ours-only": settings.oursOnly = true
            case "--data-dir": settings.dataDirectory = arguments.next()
            case "--quick": settings.sizeMB = 128
            default: fatalError("unknown option \(argument)")
            }
        }
        return settings
    }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func mib(_ bytes: UInt64) -> Double { Double(bytes) / 1_048_576 }

func fileSize(_ path: String) -> UInt64 {
    var info = stat()
    return stat(path, &info) == 0 ? UInt64(info.st_size) : 0
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

/// `print`, flushed at once (stdout is a pipe under `make`/`tee`; lines should show as they come).
func print(_ line: String = "") {
    Swift.print(line)
    fflush(nil)
}
