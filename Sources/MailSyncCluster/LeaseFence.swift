/// Whether a node may still act on what its etcd lease holds: a value with no clock of its own
/// (the caller passes instants), tested directly.
///
/// The lease lives on the etcd side until `TTL` seconds after etcd last granted or renewed it,
/// and etcd handled the request after the node sent it. So `sent + TTL` is a lower bound of the
/// lease's end, whatever the network did; the fence closes `margin` before that (default 2 s),
/// for clock rate differences and for the write already under way when it closes. A node paused
/// (SIGSTOP, a long GC, a swapped-out process) past its fence finds it closed when it runs again,
/// before it writes anything: callers check ``isOpen(at:)`` immediately before each write.
///
/// States: `closed` (never granted, lost, or expired) → `open(until)` on a grant or renewal whose
/// request was sent at `sent`; renewals only move `until` later; ``lost()`` closes it for good
/// until the next grant.
public struct LeaseFence: Sendable, Equatable {
    public let margin: Duration
    /// The lease's ID while one is held.
    public private(set) var leaseID: Int64?
    /// Until when (exclusive) the fence is open; nil: closed.
    public private(set) var openUntil: ContinuousClock.Instant?

    public init(margin: Duration = .seconds(2)) {
        self.margin = margin
    }

    /// A lease was granted by a request sent at `sent`.
    public mutating func granted(_ lease: EtcdLease, sent: ContinuousClock.Instant) {
        leaseID = lease.id
        openUntil = nil
        extend(ttlSeconds: lease.ttlSeconds, sent: sent)
    }

    /// The lease was renewed by a request sent at `sent` (etcd answered with `ttlSeconds`).
    /// Ignored for another lease than the one held.
    public mutating func renewed(_ lease: EtcdLease, sent: ContinuousClock.Instant) {
        guard lease.id == leaseID else { return }
        extend(ttlSeconds: lease.ttlSeconds, sent: sent)
    }

    /// The lease is gone (etcd said so, or it was revoked): closed until a new grant.
    public mutating func lost() {
        leaseID = nil
        openUntil = nil
    }

    /// Whether the node may still write for what the lease holds at `now`.
    public func isOpen(at now: ContinuousClock.Instant) -> Bool {
        guard let openUntil else { return false }
        return now < openUntil
    }

    /// How long the fence stays open after `now` (zero when closed).
    public func remaining(at now: ContinuousClock.Instant) -> Duration {
        guard let openUntil, now < openUntil else { return .zero }
        return openUntil - now
    }

    private mutating func extend(ttlSeconds: Int64, sent: ContinuousClock.Instant) {
        let ttl = Duration.seconds(max(0, min(ttlSeconds, 86_400)))
        guard ttl > margin else { return }  // a lease this short gives no safe window
        let until = sent + ttl - margin
        if openUntil.map({ until > $0 }) ?? true { openUntil = until }
    }
}
