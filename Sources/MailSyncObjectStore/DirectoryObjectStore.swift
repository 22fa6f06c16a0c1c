import Foundation

/// An ``ObjectStore`` in a directory (local disk or a mount): one file per key under `root`.
///
/// `put` writes a temporary file, fsyncs it, renames it into place and fsyncs the directory, so
/// an object is either whole or absent after a crash. A SHA-256 sidecar is not kept: the sealed
/// objects carry their own authentication tag, which ``get(_:)``'s callers verify. The work runs
/// on a thread of its own per call.
public struct DirectoryObjectStore: ObjectStore {
    public let root: String

    /// `root` is created (mode 0700) on first write if missing.
    public init(root: String) {
        self.root = root
    }

    public func put(_ key: ObjectKey, _ data: Data) async throws {
        let path = root + "/" + key.value
        try await Self.offPool {
            let directory = (path as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw ObjectStoreError.io("cannot create \(directory): \(error.localizedDescription)")
            }
            let temporary = path + ".tmp-\(UUID().uuidString)"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw ObjectStoreError.io("cannot create \(temporary): \(String(cString: strerror(errno)))") }
            var failure: String?
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        failure = "write \(temporary): \(String(cString: strerror(errno)))"
                        return
                    }
                    offset += written
                }
            }
            if failure == nil, fsync(fd) != 0 { failure = "fsync \(temporary): \(String(cString: strerror(errno)))" }
            close(fd)
            if failure == nil, rename(temporary, path) != 0 { failure = "rename to \(path): \(String(cString: strerror(errno)))" }
            if let failure {
                unlink(temporary)
                throw ObjectStoreError.io(failure)
            }
            let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dfd >= 0 {
                fsync(dfd)
                close(dfd)
            }
        }
    }

    public func get(_ key: ObjectKey) async throws -> Data? {
        let path = root + "/" + key.value
        return try await Self.offPool {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            do {
                return try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw ObjectStoreError.io("cannot read \(path): \(error.localizedDescription)")
            }
        }
    }

    public func list(prefix: String) async throws -> [ObjectInfo] {
        let root = self.root
        return try await Self.offPool {
            guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
            var found: [ObjectInfo] = []
            while let relative = walker.nextObject() as? String {
                guard relative.hasPrefix(prefix), !relative.contains(".tmp-"), ObjectKey.isValid(relative) else { continue }
                let attributes = try? FileManager.default.attributesOfItem(atPath: root + "/" + relative)
                guard (attributes?[.type] as? FileAttributeType) == .typeRegular else { continue }
                let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
                found.append(ObjectInfo(key: try ObjectKey(relative), size: size))
            }
            return found.sorted { $0.key < $1.key }
        }
    }

    public func delete(_ keys: [ObjectKey]) async throws {
        let root = self.root
        try await Self.offPool {
            for key in keys {
                let path = root + "/" + key.value
                if unlink(path) != 0, errno != ENOENT {
                    throw ObjectStoreError.io("cannot delete \(path): \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// Runs blocking file work on a thread of its own, never on the cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "object store"
            thread.start()
        }
    }
}
