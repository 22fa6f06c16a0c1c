import ArgumentParser
import Foundation
import MailSyncClient
import MailSyncRPC

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `mailsync backup`: backs up companies' databases on the server (operators).
///
/// One company per argument, or every company with `--all`, `--parallel` at a time (default 2).
/// A company unchanged since its latest backup gets that backup back (the server writes nothing)
/// unless `--force`.
/// On a terminal, progress goes to standard error. A company that fails is reported there and the
/// others continue; the exit code is then that of the first failure.
struct BackupCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back up companies' databases (operators); unchanged ones keep their latest backup.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Company ids.") var companies: [String] = []
    @Flag(help: "Every company.") var all = false
    @Option(help: "Companies backed up at once (1–16).") var parallel: Int = 2
    @Flag(help: "Back up even companies unchanged since their latest backup.") var force = false

    func validate() throws {
        guard all != !companies.isEmpty else { throw ValidationError("name companies or pass --all (not both)") }
        guard (1...16).contains(parallel) else { throw ValidationError("--parallel must be 1 to 16") }
    }

    func call(_ client: MailSync.Client) async throws {
        let ids = all ? try await Self.allCompanies(client) : companies
        let progress = !options.json && isatty(2) == 1
        var results = [Result<Backup, RPCError>?](repeating: nil, count: ids.count)
        try await withThrowingTaskGroup(of: (Int, Result<Backup, RPCError>).self) { group in
            var next = 0
            var done = 0
            func add(_ index: Int) {
                group.addTask {
                    var request = BackupTenantRequest()
                    request.companyId = ids[index]
                    request.force = force
                    do {
                        return (index, .success(try await client.backupTenant(request)))
                    } catch let error as RPCError {
                        return (index, .failure(error))
                    }
                }
            }
            while next < ids.count, next < parallel {
                add(next)
                next += 1
            }
            while let (index, result) = try await group.next() {
                results[index] = result
                done += 1
                if case .failure(let error) = result {
                    FileHandle.standardError.write(Data("\(progress ? "\r\u{1B}[K" : "")mailsync: \(ids[index]): \(error.code): \(error.message)\n".utf8))
                }
                if progress { FileHandle.standardError.write(Data("\r\u{1B}[K\(Self.bar(done, ids.count))".utf8)) }
                if next < ids.count {
                    add(next)
                    next += 1
                }
            }
        }
        if progress { FileHandle.standardError.write(Data("\n".utf8)) }
        let backups = results.compactMap { try? $0?.get() }
        output(backups, table: BackupsCommand.table(backups))
        if let failure = results.lazy.compactMap({ result -> RPCError? in
            if case .failure(let error) = result { return error } else { return nil }
        }).first {
            throw ExitCode(Self.exitCode(failure.code))
        }
    }

    /// `[#####-----] 5/10`
    static func bar(_ done: Int, _ total: Int) -> String {
        let width = 30
        let filled = total == 0 ? width : done * width / total
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] \(done)/\(total)"
    }

    static func allCompanies(_ client: MailSync.Client) async throws -> [String] {
        var request = ListCompaniesRequest()
        request.pageSize = 500
        return try await allPages(request, token: \.pageToken) { page in
            let response = try await client.listCompanies(page)
            return (response.companies.map(\.id), response.nextPageToken)
        }
    }
}

/// `mailsync restore BACKUP --company ID`: replaces a company's database with a backup (operators).
struct RestoreCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace a company's database with a verified backup; the current state is backed up first (operators).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The backup id (mailsync backups lists them).") var backup: String
    @Option(help: "The company to restore; must be the backup's (a guard against restoring the wrong one).") var company: String

    func call(_ client: MailSync.Client) async throws {
        var request = RestoreTenantRequest()
        request.backupId = backup
        request.companyId = company
        let response = try await client.restoreTenant(request)
        output(response, table: Table.fields([
            ("restored", response.restored.id),
            ("previous state kept as", response.previousState.id.isEmpty ? "(none: no database, or too damaged to back up)" : response.previousState.id),
        ]))
    }
}

/// `mailsync verify BACKUP`: checks a backup without restoring it (operators). Exit code 6 when it
/// fails a check, with the reason on standard error.
struct VerifyCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check a backup's checksum and database without restoring it (operators).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The backup id.") var backup: String

    func call(_ client: MailSync.Client) async throws {
        var request = VerifyBackupRequest()
        request.backupId = backup
        let response = try await client.verifyBackup(request)
        output(response, table: Table.fields([("backup", backup), ("ok", response.ok ? "yes" : "NO"), ("detail", response.detail)]))
        if !response.ok {
            FileHandle.standardError.write(Data("mailsync: \(response.detail)\n".utf8))
            throw ExitCode(Self.exitCode(.failedPrecondition))
        }
    }
}

/// `mailsync backups`: backups, newest first (operators).
struct BackupsCommand: AdminCommand {
    static let configuration = CommandConfiguration(commandName: "backups", abstract: "List backups, newest first (operators).")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this company's.") var company: String = ""
    @Option(help: "At most this many.") var limit: Int = 100

    func call(_ client: MailSync.Client) async throws {
        var request = ListBackupsRequest()
        request.companyId = company
        request.pageSize = Int32(clamping: min(max(limit, 1), 500))
        let backups = try await allPages(request, token: \.pageToken, limit: max(limit, 1)) { page in
            let response = try await client.listBackups(page)
            return (response.backups, response.nextPageToken)
        }
        output(backups, table: Self.table(backups))
    }

    static func table(_ backups: [Backup]) -> Table {
        Table(["ID", "COMPANY", "CREATED", "SIZE", "SHA-256"], backups.map { backup in
            [backup.id, backup.companyId, backup.createdAt.text, size(backup.sizeBytes), String(backup.sha256.prefix(16))]
        })
    }

    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
