import Testing
@testable import MailSyncEngine
@testable import MailSyncService

/// ``IdleBounds``: each bound, just under and at its limit.
@Suite("IDLE bounds")
struct IdleBoundsTests {
    typealias Held = [(company: String, host: String)]

    struct Case: Sendable, CustomTestStringConvertible {
        var held: [String]  // "company@host"
        var company: String
        var host: String
        var refusal: String?
        var testDescription: String { "\(held) + \(company)@\(host) → \(refusal ?? "admitted")" }
    }

    static let bounds = IdleBounds(maxTotal: 3, maxPerCompany: 2, maxPerServer: 2)

    @Test(arguments: [
        Case(held: [], company: "a", host: "imap.one", refusal: nil),
        Case(held: ["a@imap.one"], company: "a", host: "imap.two", refusal: nil),
        Case(held: ["a@imap.one", "a@imap.two"], company: "a", host: "imap.three", refusal: "maxIdleConnectionsPerCompany (2)"),
        Case(held: ["a@imap.one", "b@imap.one"], company: "c", host: "IMAP.ONE", refusal: "maxIdleConnectionsPerServer (2)"),
        Case(held: ["a@imap.one", "b@imap.one"], company: "c", host: "imap.two", refusal: nil),
        Case(held: ["a@imap.one", "b@imap.two", "c@imap.three"], company: "d", host: "imap.four", refusal: "maxIdleConnections (3)"),
    ])
    func refusal(_ c: Case) {
        let held: Held = c.held.map { entry in
            let parts = entry.split(separator: "@")
            return (String(parts[0]), String(parts[1]))
        }
        #expect(Self.bounds.refusal(company: c.company, host: c.host, held: held) == c.refusal)
    }

    @Test("a bound of 0 admits nothing (IDLE connections turned off by bound)")
    func zero() {
        #expect(IdleBounds(maxTotal: 0, maxPerCompany: 5, maxPerServer: 5).refusal(company: "a", host: "h", held: Held()) != nil)
        #expect(IdleBounds(maxTotal: 5, maxPerCompany: 0, maxPerServer: 5).refusal(company: "a", host: "h", held: Held()) != nil)
        #expect(IdleBounds(maxTotal: 5, maxPerCompany: 5, maxPerServer: 0).refusal(company: "a", host: "h", held: Held()) != nil)
    }

    @Test("the defaults: 500 in all, 50 per company, 100 per server; IDLE off")
    func defaults() {
        let settings = SyncSettings()
        #expect(!settings.idleEnabled)
        #expect(settings.maxIdleConnections == 500)
        #expect(settings.maxIdleConnectionsPerCompany == 50)
        #expect(settings.maxIdleConnectionsPerServer == 100)
        #expect(settings.idleRenewal == .seconds(25 * 60))
    }

    @Test("the config file's IDLE settings reach the sync settings; out-of-range values are refused by name")
    func serverSettings() throws {
        var file = ServerSettings()
        file.imapIdle = true
        file.maxIdleConnections = 7
        file.maxIdleConnectionsPerCompany = 3
        file.maxIdleConnectionsPerServer = 2
        let sync = try file.syncSettings()
        #expect(sync.idleEnabled && sync.maxIdleConnections == 7 && sync.maxIdleConnectionsPerCompany == 3 && sync.maxIdleConnectionsPerServer == 2)
        file.maxIdleConnectionsPerServer = -1
        #expect(throws: SettingsError.self) { try file.syncSettings() }
        do {
            _ = try file.syncSettings()
        } catch {
            #expect("\(error)".contains("maxIdleConnectionsPerServer"))
        }
        var flags = ServerSettings()
        flags.imapIdle = false
        #expect(file.overridden(by: flags).imapIdle == false)
    }
}
