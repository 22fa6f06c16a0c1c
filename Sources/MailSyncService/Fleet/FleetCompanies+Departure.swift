import Foundation
import Synchronization
import MailSyncCluster
import MailSyncRPC
import MailSyncReplication
import MailSyncStorage
import MailSyncTenantData

/// A company leaving this node in a planned move (``FleetCompanies``).
extension FleetCompanies {
    /// Moves a company this node owns to `node` (see the type's doc). Throws, with the move
    /// abandoned and the company served here again, when its calls do not drain in time, its
    /// last writes cannot be shipped, or its placement changed meanwhile.
    func depart(_ tenant: TenantID, to node: NodeID, from read: PlacementStore.Read) async throws {
        guard let shipping else {
            throw RPCError(.failedPrecondition, "node \(fleet.node) has no remoteBackup target; companies move through the bucket")
        }
        let started = ContinuousClock.now
        traffic.withLock { $0[tenant, default: Traffic()].draining = true }
        defer {
            traffic.withLock { traffic in
                traffic[tenant]?.draining = false
                if traffic[tenant]?.inFlight ?? 0 <= 0 { traffic[tenant] = nil }
            }
        }
        while traffic.withLock({ $0[tenant]?.inFlight ?? 0 }) > 0 {
            guard ContinuousClock.now - started < Self.drainLimit else {
                throw RPCError(.unavailable, "company \(tenant)'s calls did not finish within \(Self.drainLimit); the move was abandoned")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        try await shipping.shipNow(tenant)
        guard try await fleet.placements.move(tenant.description, from: read, to: node) != nil else {
            throw RPCError(.aborted, "company \(tenant)'s placement changed during the move; nothing was moved")
        }
        await fleet.gate.forget(tenant.description)
        epochs.withLock { $0[tenant] = nil }
        fleet.departed()
        logger.notice("cluster: company moved away", metadata: [
            "company": "\(tenant)", "to": "\(node)", "drained_and_shipped_in": "\(ContinuousClock.now - started)"])
    }
}
