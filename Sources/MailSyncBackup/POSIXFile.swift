#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
private let systemClose = Glibc.close
private let systemRename = Glibc.rename
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
private let systemClose = Darwin.close
private let systemRename = Darwin.rename
#endif

/// A file descriptor with the few operations backups need, each throwing ``BackupError`` with the
/// path and the system's reason. Blocking: use on a ``BlockingThread``.
final class POSIXFile {
    let fd: Int32
    let path: String
    private var isClosed = false

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close() }

    /// A new file (mode 0600); fails if `path` exists (temporary names are never reused).
    static func create(_ path: String) throws -> POSIXFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw FileSystem.error("cannot create", path) }
        return POSIXFile(fd: fd, path: path)
    }

    static func openForReading(_ path: String) throws -> POSIXFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw FileSystem.error("cannot open", path, notFound: errno == ENOENT) }
        return POSIXFile(fd: fd, path: path)
    }

    /// Reads up to `buffer.count` bytes; 0 at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = systemRead(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw FileSystem.error("cannot read", path) }
        }
    }

    func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystem.error("cannot write", path)
            }
            offset += count
        }
    }

    func sync() throws {
        guard fsync(fd) == 0 else { throw FileSystem.error("cannot sync", path) }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        _ = systemClose(fd)
    }
}

/// Directory and path operations for backups. Blocking.
enum FileSystem {
    static func error(_ what: String, _ path: String, notFound: Bool = false) -> BackupError {
        let code = errno
        let reason = String(cString: strerror(code))
        let hint = code == ENOSPC ? " (the disk is full: free space and try again)" : ""
        return BackupError(notFound ? .notFound : .fileSystem, "\(what) \(path): \(reason)\(hint)")
    }

    /// Makes `path` (mode 0700) and any missing parents. A symbolic link in place of a directory
    /// is refused.
    static func makeDirectories(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw BackupError(.fileSystem, "\(path) is not a directory (a symbolic link?); backup directories must be real directories")
            }
            return
        }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectories(String(path[..<slash]))
        }
        if mkdir(path, 0o700) != 0, errno != EEXIST { throw error("cannot create directory", path) }
    }

    /// Flushes a directory's entries (after a rename or unlink in it), so they survive a crash.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw error("cannot open directory", path) }
        defer { _ = systemClose(fd) }
        guard fsync(fd) == 0 else { throw error("cannot sync directory", path) }
    }

    static func rename(_ from: String, _ to: String) throws {
        guard systemRename(from, to) == 0 else { throw error("cannot rename \(from) to", to) }
    }

    /// Removes a file; a missing one is fine.
    static func remove(_ path: String) throws {
        if unlink(path) != 0, errno != ENOENT { throw error("cannot remove", path) }
    }

    /// Size, modification time and inode, or `nil` if there is no such file.
    static func mark(_ path: String) -> FileMark? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return FileMark(
            size: UInt64(info.st_size),
            modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            inode: UInt64(info.st_ino))
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The names in a directory (no `.`/`..`); empty if it does not exist.
    static func names(in path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw error("cannot list", path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename, fsync of
    /// the directory. A crash leaves the old file or the new one, never a part.
    static func writeAtomically(_ bytes: [UInt8], to path: String, temporary: String) throws {
        let file = try POSIXFile.create(temporary)
        do {
            try bytes.withUnsafeBytes { try file.writeAll($0) }
            try file.sync()
            file.close()
            try rename(temporary, path)
        } catch {
            file.close()
            try? remove(temporary)
            throw error
        }
        try syncDirectory(directory(of: path))
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Reads a whole small file (a manifest), at most `limit` bytes.
    static func readSmallFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
        let file = try POSIXFile.openForReading(path)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try file.read(into: $0) }
            if count == 0 { return bytes }
            bytes += buffer[..<count]
            if bytes.count > limit { throw BackupError(.corrupted, "\(path) is larger than \(limit) bytes; it is not a manifest") }
        }
    }
}
