/// How many Smart Mails run at once, how long one waits for a slot, and which SMTP relays may be
/// used without a login: the server settings' `smartMail…` and `smtpRelaysWithoutAuth` fields,
/// checked.
public struct SmartMailSettings: Sendable, Equatable {
    /// Sends in progress on the whole server, each on its own send thread. Default 16.
    public var workers = 16
    /// Sends in progress for one company. Default 8 (a value above `workers` acts as `workers`).
    public var perCompany = 8
    /// Sends in progress for one user. Default 2.
    public var perUser = 2
    /// How long a send over a limit waits for a slot before `resource exhausted`. Default 5 s.
    public var queueWait: Duration = .seconds(5)
    /// `host:port` pairs (host lower-cased, IPv6 without brackets) that may be sent through
    /// without `AUTH`. Default: none.
    public var relaysWithoutAuth: Set<String> = []

    public init() {}

    /// Whether the server at `host`:`port` is an operator-allowed relay that needs no login.
    func allowsRelayWithoutAuth(host: String, port: Int) -> Bool {
        relaysWithoutAuth.contains(Self.relayKey(host: host, port: port))
    }

    static func relayKey(host: String, port: Int) -> String { "\(host.lowercased()):\(port)" }
}

extension ServerSettings {
    /// The Smart Mail settings these describe (defaults where unset).
    ///
    /// - Throws: `SettingsError` for a value out of range or a relay that is not `host:port`.
    public func smartMailSettings() throws -> SmartMailSettings {
        var result = SmartMailSettings()
        func count(_ value: Int?, _ name: String) throws -> Int? {
            guard let value else { return nil }
            guard (1...1024).contains(value) else { throw SettingsError("\(name) must be 1...1024, got \(value)") }
            return value
        }
        if let v = try count(smartMailWorkers, "smartMailWorkers") { result.workers = v }
        if let v = try count(smartMailPerCompany, "smartMailPerCompany") { result.perCompany = v }
        if let v = try count(smartMailPerUser, "smartMailPerUser") { result.perUser = v }
        if let v = smartMailQueueWaitSeconds {
            guard v.isFinite, (0...60).contains(v) else {
                throw SettingsError("smartMailQueueWaitSeconds must be 0...60 seconds, got \(v)")
            }
            result.queueWait = .milliseconds(Int64((v * 1000).rounded()))
        }
        for relay in smtpRelaysWithoutAuth ?? [] {
            guard let (host, port) = try? Self.parseListen(relay), port > 0 else {
                throw SettingsError("smtpRelaysWithoutAuth entries must be host:port as the mailboxes name the SMTP server (for example relay.example.com:25), got '\(relay)'")
            }
            result.relaysWithoutAuth.insert(SmartMailSettings.relayKey(host: host, port: port))
        }
        return result
    }
}
