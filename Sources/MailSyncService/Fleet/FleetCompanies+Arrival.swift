import Foundation
import MailSyncCluster
import MailSyncRPC
import MailSyncReplication
import MailSyncStorage
import MailSyncTenantData

/// A company arriving on this node: restored from the bucket (``FleetCompanies``).
extension FleetCompanies {
    /// Restores the company from the bucket to its latest shipped point, replacing whatever copy
    /// this node had.
    func arrive(_ tenant: TenantID, epoch: Int64) async throws {
        guard let shipping else {
            throw RPCError(
                .unavailable, "company \(tenant) was given to node \(fleet.node), which has no remoteBackup to restore it from; every node of a fleet needs the same remoteBackup target")
        }
        let started = ContinuousClock.now
        let target = shipping.target
        let path = dataDirectory.tenantDatabasePath(tenant)
        let directory = (path as NSString).deletingLastPathComponent
        let fileName = (path as NSString).lastPathComponent
        await shipping.hold(tenant)
        let result: PointInTimeRestore.Result
        do {
            result = try await tenants.withTenantOffline(tenant) {
                let staging = directory + ".arriving-" + UUID().uuidString.prefix(8)
                try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                do {
                    let result = try await PointInTimeRestore(
                        store: target.store, sealer: SealedObjects(key: target.key), name: BackupShipping.tenantName(tenant)
                    ).restore(to: staging + "/" + fileName)
                    try FileStamp.tenant(tenant).verify(fileAt: staging + "/" + fileName)
                    if FileManager.default.fileExists(atPath: directory) { try FileManager.default.removeItem(atPath: directory) }
                    try FileManager.default.moveItem(atPath: staging, toPath: directory)
                    return result
                } catch {
                    try? FileManager.default.removeItem(atPath: staging)
                    throw error
                }
            }
        } catch let error as ReplicationError where error.kind == .noBackup {
            await shipping.release(tenant)
            throw RPCError(.unavailable, "company \(tenant) was given to node \(fleet.node), but the bucket holds no shipped copy of it (\(error)); an operator must restore it")
        } catch {
            await shipping.release(tenant)
            throw RPCError(.unavailable, "node \(fleet.node) could not restore company \(tenant) from the bucket (\(error)); retry shortly")
        }
        // Opened once now, so the file is in WAL mode and its new generation ships next round.
        _ = try? await tenants.withTenant(tenant) { _ in true }
        await shipping.release(tenant)
        try await adopt(tenant, epoch: epoch)
        fleet.arrived()
        logger.notice("cluster: company arrived, restored from the bucket", metadata: [
            "company": "\(tenant)", "epoch": "\(epoch)", "generation": "\(result.generation)", "segments": "\(result.segments)",
            "as_of_ms": "\(result.restoredToMilliseconds)", "took": "\(ContinuousClock.now - started)",
        ])
    }
}
