import Testing

@testable import MailSyncErrors

@Suite struct BackoffTests {
    @Test(arguments: [
        ("Request is throttled. Suggested Backoff Time: 155491 milliseconds", Duration.milliseconds(155491)),
        ("request is throttled. suggested backoff time: 0 milliseconds", .zero),
        ("Request is throttled. Suggested Backoff Time:42 ms", .milliseconds(42)),
        ("Request is throttled. Suggested Backoff Time: 30 seconds", .seconds(30)),
    ])
    func parsesSuggestion(_ text: String, _ expected: Duration) {
        #expect(SuggestedBackoff.parse(text) == expected)
    }

    @Test(arguments: [
        "Request is throttled.",
        "Request is throttled. Suggested Backoff Time: milliseconds",
        "Request is throttled. Suggested Backoff Time: 12 fortnights",
        "Request is throttled. Suggested Backoff Time: 99999999999999999999999 milliseconds",
        "Request is throttled. Suggested Backoff Time: -5 milliseconds",
    ])
    func rejectsGarbage(_ text: String) {
        #expect(SuggestedBackoff.parse(text) == nil)
    }

    @Test func throttledDiagnosisHonoursTheSuggestion() throws {
        let diagnosis = MailErrorClassifier.classify(.imap(IMAPResponse(
            status: .no, text: "Request is throttled. Suggested Backoff Time: 155491 milliseconds", phase: .fetch)))
        let backoff = try #require(diagnosis.retry.backoff)
        #expect(backoff.suggested == .milliseconds(155491))
        #expect(backoff.delay(forAttempt: 1) == .milliseconds(155491))
        #expect(backoff.delay(forAttempt: 2) == .milliseconds(155491))
        #expect(backoff.delay(forAttempt: 3) == .seconds(240))
    }

    @Test func throttledWithoutNumberUsesTheDefault() throws {
        let diagnosis = MailErrorClassifier.classify(
            .imap(IMAPResponse(status: .no, text: "Request is throttled.", phase: .fetch)))
        #expect(diagnosis.retry == .backOff(.standard))
    }

    @Test func hugeSuggestionIsClampedToADay() throws {
        let diagnosis = MailErrorClassifier.classify(.imap(IMAPResponse(
            status: .no, text: "Request is throttled. Suggested Backoff Time: 999999999999 milliseconds", phase: .fetch)))
        #expect(try #require(diagnosis.retry.backoff).suggested == Backoff.maximumSuggestion)
    }

    @Test func oauthRetryAfterIsHonoured() throws {
        let diagnosis = MailErrorClassifier.classify(.oauth(OAuthTokenError(
            error: "temporarily_unavailable", httpStatus: 503, retryAfter: .seconds(120))))
        #expect(try #require(diagnosis.retry.backoff).delay(forAttempt: 1) == .seconds(120))
    }

    @Test func suggestionIsIgnoredOutsideTemporary() {
        // An authentication text that happens to carry a suggestion still stops soon.
        let diagnosis = MailErrorClassifier.classify(.imap(IMAPResponse(
            status: .no, text: "AUTHENTICATE failed. Suggested Backoff Time: 5 ms", phase: .authenticate)))
        #expect(diagnosis.retry == .authenticationDefault)
    }

    @Test func exponentialScheduleIsCapped() {
        let standard = Backoff.standard
        #expect(standard.delay(forAttempt: 1) == .seconds(60))
        #expect(standard.delay(forAttempt: 2) == .seconds(120))
        #expect(standard.delay(forAttempt: 6) == .seconds(1920))
        #expect(standard.delay(forAttempt: 7) == .seconds(3600))
        #expect(standard.delay(forAttempt: 1_000_000) == .seconds(3600))
        #expect(Backoff.politeCheck.delay(forAttempt: 1) == .seconds(600))
        #expect(Backoff.dailyQuota.delay(forAttempt: 100) == .seconds(86400))
    }
}
