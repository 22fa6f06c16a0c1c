import Testing
@testable import MailSyncEngine
@testable import MailSyncService

/// `ProviderBudget`: what is left of a provider's daily limits, UTC days, and the hold.
@Suite("Provider budget", .timeLimit(.minutes(1)))
struct ProviderBudgetTests {
    @Test("UTC days and the next midnight, across years and before 1970")
    func days() {
        #expect(ProviderBudget.utcDay(0) == "1970-01-01")
        #expect(ProviderBudget.utcDay(1_790_000_000_000_000) == "2026-09-21")
        #expect(ProviderBudget.utcDay(951_782_400_000_000) == "2000-02-29")
        #expect(ProviderBudget.utcDay(-1) == "1969-12-31")
        #expect(ProviderBudget.utcDay(1_798_761_599_999_999) == "2026-12-31")
        #expect(ProviderBudget.utcDay(1_798_761_600_000_000) == "2027-01-01")
        #expect(ProviderBudget.startOfNextUTCDay(after: 1_790_000_000_000_000) == 1_790_035_200_000_000)
        #expect(ProviderBudget.startOfNextUTCDay(after: 1_790_035_200_000_000) == 1_790_121_600_000_000)
    }

    @Test("the allowance is 90% of the limit less what today used; a new day starts over")
    func allowance() {
        let gmail = ProviderBudget(dailyDownloadBytes: 2_500_000_000)
        #expect(gmail.remainingBytes(.none("2026-09-21")) == 2_250_000_000)
        let used = ProviderBudget.Usage(day: "2026-09-21", bytes: 2_000_000_000, commands: 10)
        #expect(gmail.remainingBytes(used) == 250_000_000)
        #expect(gmail.exhausted(used) == nil)
        let more = used.adding(bytes: 300_000_000, commands: 5, on: "2026-09-21")
        #expect(more == ProviderBudget.Usage(day: "2026-09-21", bytes: 2_300_000_000, commands: 15))
        #expect(gmail.remainingBytes(more) == 0)
        #expect(gmail.exhausted(more)?.contains("2.3 GB of the provider's 2.5 GB") == true)
        // The next day: nothing used yet.
        #expect(more.on("2026-09-22") == .none("2026-09-22"))
        #expect(more.adding(bytes: 1, commands: 1, on: "2026-09-22") == ProviderBudget.Usage(day: "2026-09-22", bytes: 1, commands: 1))
        // No limit known: nothing held back.
        #expect(ProviderBudget().remainingBytes(more) == nil)
        #expect(ProviderBudget().exhausted(more) == nil)
        #expect(ProviderBudget(dailyCommands: 100).exhausted(ProviderBudget.Usage(day: "d", bytes: 0, commands: 90)) != nil)
        #expect(ProviderBudget(dailyCommands: 100).exhausted(ProviderBudget.Usage(day: "d", bytes: 0, commands: 89)) == nil)
    }

    @Test("the presets' limits, and the config's: a value replaces the preset's, 0 turns it off, a negative one is refused naming the setting")
    func configured() throws {
        let presets = try OAuthConfigurationTests.settings("{}").providerTable()
        #expect(presets.preset(.gmail)?.budget == ProviderBudget(dailyDownloadBytes: 2_500_000_000, dailySends: 500))
        #expect(presets.preset(.microsoft365)?.budget == ProviderBudget(dailySends: 10_000))
        #expect(presets.preset(.customImap)?.budget == ProviderBudget())
        let json = #"{ "providers": { "GMAIL": { "dailyDownloadBytes": 0, "dailySends": 2000 }, "CUSTOM_IMAP": { "dailyCommands": 5000 } } }"#
        let table = try OAuthConfigurationTests.settings(json).providerTable()
        #expect(table.preset(.gmail)?.budget == ProviderBudget(dailySends: 2000))
        #expect(table.preset(.customImap)?.budget == ProviderBudget(dailyCommands: 5000))
        for field in ["dailyDownloadBytes", "dailyCommands", "dailySends"] {
            let settings = try OAuthConfigurationTests.settings(#"{ "providers": { "GMAIL": { "\#(field)": -1 } } }"#)
            let error = #expect(throws: SettingsError.self) { try settings.providerTable() }
            #expect("\(error.map { "\($0)" } ?? "")".contains("providers.GMAIL.\(field) must be 0"), "\(String(describing: error))")
        }
    }
}
