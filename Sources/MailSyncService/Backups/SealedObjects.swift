import Foundation
import MailSyncObjectStore
import MailSyncReplication
import MailSyncSecurity

/// The replication's ``Sealer`` backed by the backup key: every snapshot, segment and manifest
/// is sealed (``BackupSealer``: AES-256-GCM, bound to its object key) before it leaves the machine.
public struct SealedObjects: Sealer {
    let sealer: BackupSealer

    public init(key: BackupKey) {
        sealer = BackupSealer(key: key)
    }

    public func seal(_ data: Data, key: ObjectKey) throws -> Data {
        try sealer.seal(data, name: key.value)
    }

    public func open(_ data: Data, key: ObjectKey) throws -> Data {
        try sealer.open(data, name: key.value)
    }
}
