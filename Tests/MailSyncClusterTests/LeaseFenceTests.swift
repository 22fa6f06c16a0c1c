import Testing
@testable import MailSyncCluster

@Suite("Lease fence: open only while the lease is surely alive")
struct LeaseFenceTests {
    let start = ContinuousClock.now

    @Test("closed before any grant; a grant opens it until the request's send time + TTL − margin")
    func grantOpens() {
        var fence = LeaseFence(margin: .seconds(2))
        #expect(!fence.isOpen(at: start))
        fence.granted(EtcdLease(id: 7, ttlSeconds: 10), sent: start)
        #expect(fence.leaseID == 7)
        #expect(fence.isOpen(at: start + .seconds(7.9)))
        #expect(!fence.isOpen(at: start + .seconds(8)))
        #expect(fence.remaining(at: start + .seconds(3)) == .seconds(5))
        #expect(fence.remaining(at: start + .seconds(9)) == .zero)
    }

    @Test("a renewal moves the end later, never earlier, and one for another lease is ignored")
    func renewals() {
        var fence = LeaseFence(margin: .seconds(2))
        fence.granted(EtcdLease(id: 7, ttlSeconds: 10), sent: start)
        fence.renewed(EtcdLease(id: 7, ttlSeconds: 10), sent: start + .seconds(3))
        #expect(fence.openUntil == start + .seconds(11))
        // A late answer to an older renewal does not shorten it.
        fence.renewed(EtcdLease(id: 7, ttlSeconds: 10), sent: start + .seconds(1))
        #expect(fence.openUntil == start + .seconds(11))
        fence.renewed(EtcdLease(id: 8, ttlSeconds: 10), sent: start + .seconds(6))
        #expect(fence.openUntil == start + .seconds(11))
    }

    @Test("a paused node finds the fence closed when it runs again, whatever it held before")
    func pausedPastTheLease() {
        var fence = LeaseFence(margin: .seconds(2))
        fence.granted(EtcdLease(id: 7, ttlSeconds: 10), sent: start)
        // SIGSTOP for 30 s: no renewal ran; on SIGCONT the first check is against the clock.
        #expect(!fence.isOpen(at: start + .seconds(30)))
    }

    @Test("lost closes it until the next grant; a lease not longer than the margin never opens it")
    func lostAndShort() {
        var fence = LeaseFence(margin: .seconds(2))
        fence.granted(EtcdLease(id: 7, ttlSeconds: 10), sent: start)
        fence.lost()
        #expect(!fence.isOpen(at: start))
        #expect(fence.leaseID == nil)
        fence.renewed(EtcdLease(id: 7, ttlSeconds: 10), sent: start)
        #expect(!fence.isOpen(at: start), "a renewal of the lost lease does not reopen it")
        fence.granted(EtcdLease(id: 9, ttlSeconds: 2), sent: start)
        #expect(!fence.isOpen(at: start))
        fence.granted(EtcdLease(id: 10, ttlSeconds: Int64.max), sent: start)
        #expect(fence.isOpen(at: start + .seconds(3600)), "absurd TTLs are capped at a day, not trapped on")
        #expect(!fence.isOpen(at: start + .seconds(86_400)))
    }
}
