/// Who may send a Smart Mail now, as a value: slots in use per server, company and user, and the
/// sends waiting for one, in arrival order.
///
/// A send runs when all three limits allow it: fewer than ``Limits/total`` sends in progress on
/// the server, fewer than ``Limits/perCompany`` for its company and fewer than ``Limits/perUser``
/// for its user. Waiters are served first come, first served among those a freed slot can take: a
/// waiter held back only by its own user's or company's limit does not hold up the ones behind it
/// (another company's send is not stuck behind a busy one), and while the server is full nobody
/// passes anybody.
///
/// No clock, no I/O, no locking: ``SendGate`` owns one behind a lock and performs what it returns;
/// every transition is unit tested on its own.
struct SendQueue: Sendable {
    struct Limits: Sendable, Hashable {
        /// Sends in progress on the whole server (the send workers). At least 1.
        var total: Int
        /// Sends in progress for one company. At least 1.
        var perCompany: Int
        /// Sends in progress for one user of a company. At least 1.
        var perUser: Int
        /// Sends waiting for a slot; beyond this a send is refused at once, so waiting cannot grow
        /// memory without bound.
        var maxWaiting: Int

        init(total: Int, perCompany: Int, perUser: Int, maxWaiting: Int = 1_000) {
            self.total = max(1, total)
            self.perCompany = max(1, perCompany)
            self.perUser = max(1, perUser)
            self.maxWaiting = max(0, maxWaiting)
        }
    }

    /// Whose send it is: the company and the user within it.
    struct Sender: Sendable, Hashable {
        var company: String
        var user: String
    }

    /// Which limit keeps a send from running now (the busiest first).
    enum Limit: Sendable, Hashable {
        case server, company, user
    }

    /// What happened to a send that asked for a slot.
    enum Admission: Sendable, Hashable {
        /// It may send now; it must call ``release(_:)`` when done.
        case run
        /// It waits (it is in the queue under its id).
        case wait(Limit)
        /// The queue is full: refused without waiting.
        case refused(Limit)
    }

    let limits: Limits
    private(set) var running = 0
    private var runningByCompany: [String: Int] = [:]
    private var runningByUser: [Sender: Int] = [:]
    private var waiters: [(id: UInt64, sender: Sender)] = []

    init(limits: Limits) { self.limits = limits }

    /// Sends waiting for a slot.
    var waiting: Int { waiters.count }

    /// Sends in progress for `sender`'s user.
    func running(for sender: Sender) -> Int { runningByUser[sender] ?? 0 }

    /// Sends in progress for a company.
    func running(company: String) -> Int { runningByCompany[company] ?? 0 }

    /// The limit `sender` is held back by, or nil when it could run now.
    func blockingLimit(for sender: Sender) -> Limit? {
        if running >= limits.total { return .server }
        if (runningByCompany[sender.company] ?? 0) >= limits.perCompany { return .company }
        if (runningByUser[sender] ?? 0) >= limits.perUser { return .user }
        return nil
    }

    /// A send asks for a slot. It runs at once when every limit allows (no waiter can be passed:
    /// every waiter a slot could take got it when the slot was freed); otherwise it waits under
    /// `id`, or is refused when ``Limits/maxWaiting`` sends already wait.
    mutating func arrive(_ id: UInt64, _ sender: Sender) -> Admission {
        guard let limit = blockingLimit(for: sender) else {
            start(sender)
            return .run
        }
        guard waiters.count < limits.maxWaiting else { return .refused(limit) }
        waiters.append((id, sender))
        return .wait(limit)
    }

    /// A send in progress finished: frees its slot and returns the ids of the waiters that run now,
    /// in the order they came (their slots are already taken for them).
    mutating func release(_ sender: Sender) -> [UInt64] {
        guard running > 0, let mine = runningByUser[sender], mine > 0 else { return [] }
        running -= 1
        runningByUser[sender] = mine > 1 ? mine - 1 : nil
        let company = runningByCompany[sender.company] ?? 1
        runningByCompany[sender.company] = company > 1 ? company - 1 : nil
        return admitWaiters()
    }

    /// A waiter gave up (its caller went away, or it waited too long): it leaves the queue and
    /// never sends. Returns false when `id` was not waiting (it already runs, or never came); then
    /// nothing changes.
    mutating func leave(_ id: UInt64) -> Bool {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return false }
        waiters.remove(at: index)
        return true
    }

    /// Which limit holds the waiter `id` back, if it waits.
    func limit(holding id: UInt64) -> Limit? {
        guard let waiter = waiters.first(where: { $0.id == id }) else { return nil }
        return blockingLimit(for: waiter.sender) ?? .server
    }

    private mutating func admitWaiters() -> [UInt64] {
        var admitted: [UInt64] = []
        var index = 0
        while index < waiters.count, running < limits.total {
            let waiter = waiters[index]
            if blockingLimit(for: waiter.sender) == nil {
                waiters.remove(at: index)
                start(waiter.sender)
                admitted.append(waiter.id)
            } else {
                index += 1
            }
        }
        return admitted
    }

    private mutating func start(_ sender: Sender) {
        running += 1
        runningByUser[sender, default: 0] += 1
        runningByCompany[sender.company, default: 0] += 1
    }
}
