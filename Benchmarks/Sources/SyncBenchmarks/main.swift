// Sync engine benchmarks: the first sync of a large mailbox beside a raw IMAP client fetching the
// same headers (the floor), a poll that finds nothing new, and how many idle mailboxes one server
// keeps on schedule; against a throwaway Dovecot on 127.0.0.1, in one run.
//
//   cd Benchmarks && swift run -c release SyncBenchmarks [--messages N] [--leads N] [--rounds N]
//       [--polls N] [--mailboxes K] [--quick]
//   cd Benchmarks && swift run -c release SyncBenchmarks --idle-watchers N
//       (only: resident memory per mailbox watched with IMAP IDLE, N mailboxes)
//   cd Benchmarks && swift run -c release SyncBenchmarks --idle-fleet N
//       (only: resident memory per scheduled idle mailbox, N mailboxes in companies of 100)
//
// See docs/benchmarks.md, "Sync engine".
import Foundation
import MailSyncEngine
import MailSyncService
import TestSupport

let settings = Settings.parse(CommandLine.arguments.dropFirst())
let password = "bench-pw"
let fleetUsers = (0..<(settings.idleFleet ?? settings.idleWatchers ?? settings.mailboxes)).map { "u" + String(format: "%04d", $0) }

let dovecot: DovecotServer
do {
    // One imap process per connection: room for every watcher and a poll beside each.
    let options = DovecotServer.Options(extraConfig: settings.idleWatchers == nil && settings.idleFleet == nil ? "" : IdleBenchmark.dovecotConfig)
    dovecot = try await DovecotServer.start(users: [(name: "alice", password: password)] + fleetUsers.map { (name: $0, password: password) }, options: options)
} catch {
    FileHandle.standardError.write(Data("error: cannot start Dovecot: \(error)\n".utf8))
    exit(1)
}
// Dovecot runs in its own process group: stop it on ^C or SIGTERM too.
signal(SIGINT, SIG_IGN)
signal(SIGTERM, SIG_IGN)
let signalSources = [SIGINT, SIGTERM].map { number in
    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
    source.setEventHandler {
        Task {
            await dovecot.stop()
            exit(130)
        }
    }
    source.resume()
    return source
}

var status: Int32 = 0
do {
    if settings.idleFleet != nil {
        try await IdleFleetBenchmark(dovecot: dovecot, password: password, users: fleetUsers).run()
    } else if settings.idleWatchers != nil {
        try await IdleBenchmark(dovecot: dovecot, password: password, users: fleetUsers).run()
    } else {
        try await SyncBenchmark(settings: settings, dovecot: dovecot, password: password, fleetUsers: fleetUsers).run()
    }
} catch {
    print("")
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    status = 1
}
await dovecot.stop()
exit(status)
