import MailSyncMailTransport

/// Where Smart Mails wait and run: the send threads (``CurlWorkerPool``, `workers` threads at
/// most) and the ``SendGate`` that admits sends to them under the per-server, per-company and
/// per-user limits. One per running server; ``shutdown()`` lets the threads end.
final class SmartMailOutbox: Sendable {
    let settings: SmartMailSettings
    let gate: SendGate
    let workers: CurlWorkerPool

    init(settings: SmartMailSettings) {
        self.settings = settings
        self.gate = SendGate(
            limits: SendQueue.Limits(total: settings.workers, perCompany: settings.perCompany, perUser: settings.perUser),
            maxWait: settings.queueWait)
        self.workers = CurlWorkerPool(name: "smart mail", maxThreads: settings.workers)
    }

    /// New sends are refused; the threads end once the sends in progress are done.
    func shutdown() { workers.shutdown() }
}
