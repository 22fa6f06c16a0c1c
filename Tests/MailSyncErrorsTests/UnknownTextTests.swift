import Testing

@testable import MailSyncErrors

@Suite struct UnknownTextTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var failure: MailFailure
        var errorClass: ErrorClass
        var rule: String
        var hint: String
        var testDescription: String { "\(rule): \(MailErrorClassifier.serverText(of: failure))" }
    }

    static func imap(_ status: IMAPResponse.Status, _ phase: IMAPResponse.Phase, _ errorClass: ErrorClass, _ rule: String, _ hint: String) -> Case {
        Case(failure: .imap(IMAPResponse(status: status, text: "Something nobody has seen (x17)", phase: phase)),
             errorClass: errorClass, rule: rule, hint: hint)
    }

    static let cases: [Case] = [
        imap(.no, .authenticate, .authentication, "generic.imap.authenticate", "login name and password"),
        imap(.bad, .authenticate, .authentication, "generic.imap.authenticate", "login name and password"),
        imap(.bye, .greeting, .temporary, "generic.imap.greeting", "retries automatically"),
        imap(.no, .select, .configuration, "generic.imap.select", "folder"),
        imap(.bad, .fetch, .operator, "generic.imap.bad", "our side"),
        imap(.bye, .idle, .temporary, "generic.imap.bye", "retries automatically"),
        imap(.no, .fetch, .temporary, "generic.imap.no", "retries automatically"),
        imap(.no, .other, .temporary, "generic.imap.no", "retries automatically"),
        Case(failure: .smtp(SMTPReply(code: 451, enhancedStatus: "4.3.0", text: "Mail server temporarily rejected message.")),
             errorClass: .temporary, rule: "generic.smtp.transient", hint: "retries automatically"),
        Case(failure: .smtp(SMTPReply(code: 535, text: "Go away")),
             errorClass: .authentication, rule: "generic.smtp.authentication", hint: "password"),
        Case(failure: .smtp(SMTPReply(code: 553, enhancedStatus: "5.1.8", text: "Sender address rejected")),
             errorClass: .configuration, rule: "generic.smtp.permanent", hint: "server name, port"),
        Case(failure: .oauth(OAuthTokenError(error: "weird_error", httpStatus: 400)),
             errorClass: .operator, rule: "generic.oauth.request", hint: "our side"),
        Case(failure: .oauth(OAuthTokenError(error: "slow_down", httpStatus: 429)),
             errorClass: .temporary, rule: "generic.oauth.unavailable", hint: "retries automatically"),
        Case(failure: .oauth(OAuthTokenError(error: "oops", httpStatus: 502)),
             errorClass: .temporary, rule: "generic.oauth.unavailable", hint: "retries automatically"),
    ]

    @Test(arguments: cases)
    func unknownTextGetsGenericHintByPhase(_ known: Case) {
        let diagnosis = MailErrorClassifier.classify(known.failure)
        #expect(diagnosis.errorClass == known.errorClass)
        #expect(diagnosis.rule == known.rule)
        #expect(diagnosis.hint.contains(known.hint), "hint: \(diagnosis.hint)")
        #expect(diagnosis.serverText == MailErrorClassifier.serverText(of: known.failure))
        #expect(diagnosis.retry == GenericHints.retry(for: known.errorClass))
    }

    @Test func unknownTextKeepsItsWords() {
        let text = "  [XYZZY]   Ünïcode and   spacing kept "
        let diagnosis = MailErrorClassifier.classify(.imap(IMAPResponse(status: .no, text: text, phase: .fetch)))
        #expect(diagnosis.serverText == text)
    }

    @Test func genericRetryPolicies() {
        #expect(GenericHints.retry(for: .authentication) == .stopSoon(attempts: 2, interval: .seconds(900)))
        #expect(GenericHints.retry(for: .temporary) == .backOff(.standard))
        #expect(GenericHints.retry(for: .configuration) == .untilSettingsChange)
        #expect(GenericHints.retry(for: .operator) == .untilSettingsChange)
    }
}
