import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the databases live under the data directory.
///
/// ```
/// <root>/control.sqlite                       the control database
/// <root>/tenants/<tenant-uuid>/tenant.sqlite  one file per tenant (+ -wal, -shm beside it)
/// ```
/// Tenant paths are built only from a ``TenantID``, never from a client string. Directories are
/// created with mode 0700. A tenant directory that is a symbolic link is refused.
public struct DataDirectory: Sendable {
    /// The data directory, without a trailing slash.
    public let root: String

    public init(_ root: String) {
        var root = root
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    public var controlDatabasePath: String { root + "/control.sqlite" }
    public var tenantsDirectory: String { root + "/tenants" }

    public func tenantDirectory(_ tenant: TenantID) -> String {
        tenantsDirectory + "/" + tenant.pathComponent
    }

    public func tenantDatabasePath(_ tenant: TenantID) -> String {
        tenantDirectory(tenant) + "/tenant.sqlite"
    }

    /// Creates the root (if missing) with mode 0700.
    func createRoot() throws {
        try makeDirectory(root)
    }

    /// Creates `tenants/<uuid>/` (mode 0700) if missing and checks it is a real directory.
    func createTenantDirectory(_ tenant: TenantID) throws {
        try makeDirectory(root)
        try makeDirectory(tenantsDirectory)
        try makeDirectory(tenantDirectory(tenant))
    }

    /// Refuses a tenant directory that is a symbolic link or not a directory. Missing is fine (the
    /// open then reports the missing file).
    func checkTenantDirectory(_ tenant: TenantID) throws {
        let path = tenantDirectory(tenant)
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT != S_IFDIR {
            throw StorageError(kind: .wrongOwner, message: "\(path) is not a directory (a symbolic link?); tenant directories must be real directories", path: path)
        }
    }

    /// Every tenant directory name on disk that is a valid tenant id, sorted. Others are skipped.
    public func tenantIDsOnDisk() throws -> [TenantID] {
        guard FileManager.default.fileExists(atPath: tenantsDirectory) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: tenantsDirectory)
            .compactMap(TenantID.init(validating:))
            .sorted()
    }

    private func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) == 0 { return }
        let code = errno
        var info = stat()
        if code == EEXIST, lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { return }
        throw StorageError(kind: .fileSystem, message: "cannot create directory \(path): \(String(cString: strerror(code)))", path: path)
    }
}
