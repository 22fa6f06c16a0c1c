import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data directory (`<root>/server.lock`, `flock`), held by the one process
/// that may write it as a whole: a running server, or an offline maintenance command such as
/// `mailsync keys rotate-secret`.
///
/// The kernel drops the lock when the process ends, however it ends (SIGKILL included), so a
/// crash never leaves a stale lock. The file holds the holder's pid, for the message.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Int32
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Takes the lock or throws at once.
    ///
    /// - Throws: `StorageError` (`.locked`) naming the holder's pid when another process holds it,
    ///   or the system's words when the file cannot be opened.
    public static func acquire(root: String, purpose: String) throws -> DataDirectoryLock {
        let path = root + "/server.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw StorageError(kind: .fileSystem, message: "cannot open \(path): \(String(cString: strerror(errno)))", path: path)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let holder = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw StorageError(
                kind: .locked,
                message: "the data directory \(root) is in use by another process\(holder.isEmpty ? "" : " (pid \(holder))"); stop it before \(purpose)",
                path: path)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return DataDirectoryLock(descriptor: fd, path: path)
    }

    /// Gives the lock up (closing the file). Call once.
    public func release() {
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
