import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Seeding mail by writing the maildirs directly, not through IMAP APPEND: it works whether the
/// server runs or not, needs no login, and sets INTERNALDATE exactly (Dovecot takes a maildir
/// file's mtime as the message's received date). Dovecot picks new files up at the next sync of the
/// folder (SELECT, NOOP, IDLE poll), as it does with mail delivered by an MDA.
extension DovecotServer {
    /// Writes `message` (raw RFC 5322 bytes, CRLF or LF line ends, stored as given) into `user`'s
    /// `folder`, creating the folder if needed, and returns the file's path.
    ///
    /// Messages get UIDs in the order they were appended. `seen` files it in `cur/` with the
    /// `\Seen` flag; otherwise it goes to `new/` (and is `\Recent`). `folder` is `INBOX` or an
    /// ASCII name; `.` separates levels (`Archive.2024`), as in Dovecot's maildir++ layout.
    @discardableResult
    public func append(
        user: String, folder: String = "INBOX", message: [UInt8], date: Date = Date(), seen: Bool = false
    ) throws -> String {
        let folderPath = try makeFolder(user: user, folder: folder)
        let name = nextFileName(size: message.count)
        let temporary = folderPath + "/tmp/" + name
        let final = folderPath + (seen ? "/cur/" + name + ":2,S" : "/new/" + name)
        try Data(message).write(to: URL(fileURLWithPath: temporary))
        try adopt(temporary, mode: 0o600)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: temporary)
        // tmp/ then rename, the maildir way: a running Dovecot never sees a half-written file.
        guard rename(temporary, final) == 0 else { throw DovecotError("rename \(temporary): errno \(errno)") }
        return final
    }

    /// `append` for a message given as text (written as UTF-8, so 8-bit headers stay 8-bit).
    @discardableResult
    public func append(
        user: String, folder: String = "INBOX", message: String, date: Date = Date(), seen: Bool = false
    ) throws -> String {
        try append(user: user, folder: folder, message: Array(message.utf8), date: date, seen: seen)
    }

    /// Empties `folder` and makes Dovecot give it a new UIDVALIDITY: its messages, `dovecot-uidlist`
    /// and index files are deleted; the user's `dovecot-uidvalidity` counter is kept, so the next
    /// UIDVALIDITY differs from the old one even within the same second.
    ///
    /// Call it while no session has the folder selected (a session that has it open may see its
    /// messages vanish rather than a new UIDVALIDITY). Subfolders of INBOX are left alone.
    public func recreateFolder(user: String, folder: String = "INBOX") throws {
        let path = try folderPath(user: user, folder: folder)
        let files = FileManager.default
        for sub in ["cur", "new", "tmp"] {
            for entry in (try? files.contentsOfDirectory(atPath: path + "/" + sub)) ?? [] {
                try files.removeItem(atPath: path + "/" + sub + "/" + entry)
            }
        }
        for entry in (try? files.contentsOfDirectory(atPath: path)) ?? []
        where entry == "dovecot-uidlist" || entry.hasPrefix("dovecot-uidlist.") || entry.hasPrefix("dovecot.index") {
            try files.removeItem(atPath: path + "/" + entry)
        }
        _ = try makeFolder(user: user, folder: folder)
    }

    /// The maildir holding `folder` of `user` (INBOX is the user's root maildir).
    public nonisolated func folderPath(user: String, folder: String) throws -> String {
        guard !user.isEmpty, !user.contains("/"), !user.hasPrefix(".") else { throw DovecotError("bad user name \(user)") }
        let root = directory + "/mail/" + user
        if folder.uppercased() == "INBOX" { return root }
        guard !folder.isEmpty, folder.allSatisfy({ $0.isASCII && $0 != "/" && $0 != "&" }),
            !folder.hasPrefix("."), !folder.hasSuffix("."), !folder.contains("..")
        else { throw DovecotError("folder \(folder): ASCII names without '/', '&' or empty levels only") }
        return root + "/." + folder
    }

    // MARK: - Internals

    private func makeFolder(user: String, folder: String) throws -> String {
        let root = try folderPath(user: user, folder: "INBOX")
        let path = try folderPath(user: user, folder: folder)
        for directory in [root, path, path + "/cur", path + "/new", path + "/tmp"] {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue { continue }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            try adopt(directory, mode: 0o700)
        }
        if path != root, !FileManager.default.fileExists(atPath: path + "/maildirfolder") {
            _ = FileManager.default.createFile(atPath: path + "/maildirfolder", contents: nil)
            try adopt(path + "/maildirfolder", mode: 0o600)
        }
        return path
    }

    /// Gives a file or directory to the user the mail processes run as (they must rename and
    /// write next to it: a root-owned maildir makes Dovecot fail with "Permission denied").
    private func adopt(_ path: String, mode: mode_t) throws {
        chmod(path, mode)
        guard owner.needsChown else { return }
        guard chown(path, owner.uid, owner.gid) == 0 else { throw DovecotError("chown \(path): errno \(errno)") }
    }

    /// `<seconds>.M<microseconds>P<pid>Q<n>.<host>,S=<size>`: unique, and strictly increasing in
    /// time, because Dovecot numbers new files in the order of the time in their names.
    private func nextFileName(size: Int) -> String {
        var now = timeval()
        gettimeofday(&now, nil)
        var stamp = (seconds: Int(now.tv_sec), microseconds: Int(now.tv_usec))
        if stamp <= lastStamp {
            stamp = lastStamp.microseconds < 999_999
                ? (lastStamp.seconds, lastStamp.microseconds + 1) : (lastStamp.seconds + 1, 0)
        }
        lastStamp = stamp
        return "\(stamp.seconds).M\(stamp.microseconds)P\(getpid())Q\(stamp.microseconds).mailsync-test,S=\(size)"
    }
}
