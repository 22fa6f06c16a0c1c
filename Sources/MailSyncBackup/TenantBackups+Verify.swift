import Foundation
import MailSyncStorage

extension TenantBackups {
    /// Checks a backup without restoring it, in this order: its manifest is readable and names
    /// this backup and tenant; its file has the manifest's size (`.truncated` if shorter) and
    /// SHA-256 (`.corrupted`); it decompresses fully (`.truncated` if the stream ends early) to the
    /// manifest's size and database SHA-256; the database inside is a tenant file stamped for the
    /// backup's tenant (`.wrongTenant`) and passes `integrity_check` (`.damaged`).
    ///
    /// Returns the manifest. Throws ``BackupError`` with a message naming the backup, what is wrong
    /// and what to do; `.invalidID`/`.notFound` for an id that names no backup. Needs free space
    /// for one uncompressed copy, in the tenant's backup directory, removed before returning.
    public func verify(_ id: BackupID) async throws -> BackupManifest {
        try await BlockingThread.run("backup-verify") { [self] in
            let temporary = tenantDirectory(id.tenant) + "/.verify-\(UUID().uuidString.lowercased()).verifying"
            defer {
                try? FileSystem.remove(temporary)
                try? FileSystem.remove(temporary + "-journal")
            }
            return try verifyNow(id, into: temporary).manifest
        }
    }

    /// Parses a client's backup id, or throws `.invalidID` saying what one looks like.
    public static func backupID(_ text: String) throws -> BackupID {
        guard let id = BackupID(validating: text) else {
            throw BackupError(.invalidID, "'\(text)' is not a backup id; ids look like <company-id>/20260921T120000000000Z (ListBackups lists them)")
        }
        return id
    }

    /// The blocking body of verify: leaves the checked database at `output` (a new file) for a
    /// restore to move into place. Returns the manifest and the database's schema version.
    func verifyNow(_ id: BackupID, into output: String) throws -> (manifest: BackupManifest, schemaVersion: Int32) {
        let name = "backup \(id)"
        let manifestFile = manifestPath(id)
        guard FileSystem.exists(manifestFile) else {
            throw BackupError(.notFound, "there is no backup \(id) (no manifest at \(manifestFile)); ListBackups lists the backups there are")
        }
        let manifest: BackupManifest
        do {
            manifest = try JSONDecoder().decode(BackupManifest.self, from: Data(try FileSystem.readSmallFile(manifestFile)))
        } catch {
            throw BackupError(.corrupted, "\(name) cannot be used: its manifest (\(manifestFile)) is unreadable or damaged; use another backup")
        }
        guard manifest.format <= BackupManifest.currentFormat, manifest.compression == "zlib" else {
            throw BackupError(.corrupted, "\(name) was written in format \(manifest.format) by a newer mailsync; verify or restore it with that version")
        }
        guard manifest.tenantID == id.tenant.pathComponent, manifest.id == id.description else {
            throw BackupError(.wrongTenant, "\(name) cannot be used: its manifest says it is backup \(manifest.id) of company \(manifest.tenantID) (it was copied or renamed into company \(id.tenant)'s backups); restore one of \(id.tenant)'s own backups")
        }
        let data = dataPath(id)
        guard let mark = FileSystem.mark(data) else {
            throw BackupError(.truncated, "\(name) cannot be used: its data file \(data) is missing; use another backup")
        }
        if mark.size < manifest.compressedSize {
            throw BackupError(.truncated, "\(name) is truncated: its file has \(mark.size) of \(manifest.compressedSize) bytes (an interrupted copy?); use another backup, or copy it again from where it came from")
        }
        let (sha, _) = try ZlibStream.sha256(of: data)
        guard sha == manifest.sha256, mark.size == manifest.compressedSize else {
            throw BackupError(.corrupted, "\(name) is corrupted: its file's SHA-256 is \(sha) but its manifest says \(manifest.sha256) (the file was changed or damaged on disk); use another backup")
        }
        let digests = try ZlibStream.decompress(input: data, output: output, limit: manifest.uncompressedSize, name: name)
        guard digests.uncompressedSize == manifest.uncompressedSize, digests.uncompressedSHA256 == manifest.databaseSHA256 else {
            throw BackupError(.corrupted, "\(name) is corrupted: the database inside does not match its manifest's size and SHA-256; use another backup")
        }
        let version = try SnapshotCheck.check(output, tenant: id.tenant, depth: .full, name: name)
        return (manifest, version)
    }
}
