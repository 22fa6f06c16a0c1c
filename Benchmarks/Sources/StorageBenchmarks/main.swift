// Storage benchmarks: cold open of a tenant among 10,000 files, and batched lead upserts through
// MailSyncStorage beside the same rows through raw SQLite C calls (the floor), in one run.
//
//   cd Benchmarks && swift run -c release StorageBenchmarks [--tenants N] [--opens N] [--rows N]
//       [--batch N] [--rounds N] [--data-dir PATH] [--quick]
//
// See docs/benchmarks.md, "Storage".
import Foundation
import MailSyncStorage

var settings = Settings.parse(CommandLine.arguments.dropFirst())
let root = settings.dataDirectory ?? (FileManager.default.temporaryDirectory.path + "/mailsync-storage-bench-\(getpid())")
let keep = settings.dataDirectory != nil
try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
defer { if !keep { try? FileManager.default.removeItem(atPath: root) } }

print("Mail Sync storage benchmarks — SQLite \(sqliteVersion()), data in \(root)")
print("tenants on disk: \(settings.tenants), cold opens timed: \(settings.opens), pool capacity: \(settings.capacity)")
print("upserts: \(settings.rows) rows in batches of \(settings.batch), \(settings.rounds) rounds, best and median per side")
print("")

let data = DataDirectory(root)
let tenants = try await ensureTenants(data: data, count: settings.tenants, capacity: settings.capacity)
try await coldOpens(data: data, tenants: tenants, settings: settings)
try await upserts(root: root, settings: settings)
