import Testing

@testable import MailSyncErrors

/// One known server text and what it must mean.
struct KnownText: Sendable, CustomTestStringConvertible {
    var failure: MailFailure
    var errorClass: ErrorClass
    /// A fragment the hint must contain (case-insensitive).
    var hint: String
    var retry: Retry
    var rule: String

    enum Retry: Sendable { case stopSoon, reconnect, backOff, untilSettingsChange }

    var testDescription: String { MailErrorClassifier.serverText(of: failure) }

    static func imap(
        _ status: IMAPResponse.Status, _ text: String, _ phase: IMAPResponse.Phase,
        _ errorClass: ErrorClass, _ hint: String, _ retry: Retry, _ rule: String
    ) -> KnownText {
        KnownText(
            failure: .imap(IMAPResponse(status: status, text: text, phase: phase, tag: "a1")),
            errorClass: errorClass, hint: hint, retry: retry, rule: rule)
    }

    static func smtp(
        _ reply: String, _ errorClass: ErrorClass, _ hint: String, _ retry: Retry, _ rule: String
    ) -> KnownText {
        KnownText(failure: .smtp(SMTPReply(reply: reply)!), errorClass: errorClass, hint: hint, retry: retry, rule: rule)
    }

    static func oauth(
        _ error: String, _ description: String?, status: Int, _ errorClass: ErrorClass, _ hint: String,
        _ retry: Retry, _ rule: String
    ) -> KnownText {
        KnownText(
            failure: .oauth(OAuthTokenError(error: error, errorDescription: description, httpStatus: status)),
            errorClass: errorClass, hint: hint, retry: retry, rule: rule)
    }
}

/// The help article's table (seeds/000) and every text in DESIGN.md "Error texts and their fixes".
let knownTexts: [KnownText] = [
    // Seeds.
    .imap(.no, "AUTHENTICATE failed", .authentication, "login name or the password", .stopSoon, "imap.authenticateFailed"),
    .imap(.no, "AUTHENTICATE failed.", .authentication, "Sign in with Microsoft", .stopSoon, "imap.authenticateFailed"),
    .imap(.no, "[ALERT] Invalid credentials (Failure)", .authentication, "robots and automated scripts", .stopSoon,
          "gmail.invalidCredentialsAlert"),
    .imap(.no, "[ALERT] Invalid credentials (Failure)", .authentication, "password is wrong", .stopSoon,
          "gmail.invalidCredentialsAlert"),
    .imap(.no, "[ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)",
          .configuration, "Allow less secure apps", .untilSettingsChange, "gmail.webLogin"),
    .imap(.no, "[ALERT] Please log in via your web browser", .configuration, "app password", .untilSettingsChange,
          "gmail.webLogin"),
    .imap(.no, "[ALERT] Please log in via your web browser", .configuration, "Sign in with Google", .untilSettingsChange,
          "gmail.webLogin"),
    .imap(.no, "[AUTHENTICATION FAILED] Authentication failed", .authentication, "password", .stopSoon,
          "imap.authenticationFailed"),
    .imap(.no, "[AUTHENTICATIONFAILED] Authentication failed", .authentication, "server settings", .stopSoon,
          "imap.authenticationFailed"),
    .imap(.no, "[AUTHENTICATION FAILED] Invalid credentials (Failure)", .authentication, "DisplayUnlockCaptcha", .stopSoon,
          "gmail.authenticationFailedInvalidCredentials"),
    .imap(.no, "[AUTHENTICATIONFAILED] Invalid credentials (Failure)", .authentication, "once every 10 minutes", .stopSoon,
          "gmail.authenticationFailedInvalidCredentials"),
    .imap(.no, "Invalid credentials (Failure)", .authentication, "app password", .stopSoon,
          "gmail.authenticationFailedInvalidCredentials"),
    .imap(.bye, "[CLOSED] IMAP connection broken (Authenticate)", .temporary, "no more than once every 10 minutes",
          .backOff, "imap.connectionBroken"),
    .imap(.bye, "[CLOSED] IMAP connection broken (Server Response)", .fetch, .temporary, "incorrect server settings",
          .backOff, "imap.connectionBroken"),
    // Dovecot's own text: the wrong-password hint.
    .imap(.no, "[AUTHENTICATIONFAILED] Authentication failed.", .authentication, "refused the login name or password",
          .stopSoon, "imap.authenticationFailed"),
    .imap(.no, "[UNAVAILABLE] Temporary authentication failure. [host:2024-05-01 10:00:00]", .temporary,
          "temporarily unavailable", .backOff, "imap.unavailable"),

    // Gmail.
    .imap(.no, "[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)",
          .configuration, "app password", .untilSettingsChange, "gmail.appPasswordRequired"),
    .imap(.no, "[ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)",
          .configuration, "Enable IMAP", .untilSettingsChange, "gmail.imapDisabledForAccount"),
    .imap(.no, "[ALERT] IMAP access is disabled for your domain. Please contact your domain administrator for questions about this feature. (Failure)",
          .configuration, "POP and IMAP access", .untilSettingsChange, "gmail.imapDisabledForDomain"),
    .imap(.bye, "[ALERT] Too many simultaneous connections. (Failure)", .temporary, "Gmail allows 15", .backOff,
          "gmail.tooManyConnections"),
    .imap(.no, "[OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)", .fetch, .temporary, "2.5 GB",
          .backOff, "imap.overQuota"),
    .imap(.no, "[UNAVAILABLE] Temporary System Problem. Try again later. (Failure)", .fetch, .temporary,
          "retries automatically", .backOff, "imap.unavailable"),
    .imap(.no, "[WEBALERT https://accounts.google.com/signin/continue?sarp=1] Web login required.", .configuration,
          "web browser", .untilSettingsChange, "gmail.webAlert"),

    // Microsoft.
    .imap(.bad, "User is authenticated but not connected.", .configuration, "IMAP must be enabled", .untilSettingsChange,
          "microsoft.authenticatedNotConnected"),
    .imap(.no, "Request is throttled. Suggested Backoff Time: 155491 milliseconds", .fetch, .temporary,
          "as long as Microsoft asks", .backOff, "microsoft.throttled"),
    .imap(.no, "Server Unavailable. 15", .select, .temporary, "temporarily unavailable", .backOff,
          "microsoft.serverUnavailable"),
    .imap(.bad, "Command Error. 10", .fetch, .operator, "problem on our side", .untilSettingsChange,
          "microsoft.commandTooLong"),
    .imap(.no, "[AUTH] Invalid credentials", .authentication, "DisplayUnlockCaptcha", .stopSoon, "imap.invalidCredentials"),
    .imap(.no, "LOGIN failed.", .authentication, "login name or the password", .stopSoon, "imap.loginFailed"),

    // SMTP.
    .smtp("534-5.7.9 Application-specific password required. Learn more at\r\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor",
          .configuration, "app password", .untilSettingsChange, "gmail.appPasswordRequired"),
    .smtp("534 5.7.9 Please use an app password.", .configuration, "App passwords", .untilSettingsChange,
          "gmail.smtpAppPasswordRequired"),
    .smtp("535-5.7.8 Username and Password not accepted. Learn more at\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials",
          .authentication, "user name or password", .stopSoon, "smtp.credentialsRejected"),
    .smtp("550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n550-5.4.5 sending limits go to\r\n550 5.4.5  https://support.google.com/a/answer/166852",
          .temporary, "daily sending limit", .backOff, "gmail.dailySendingLimit"),
    .smtp("550 5.4.5 Daily sending quota exceeded.", .temporary, "within 24 hours", .backOff, "smtp.dailySendingLimit"),
    .smtp("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
          .configuration, "Authenticated SMTP", .untilSettingsChange, "microsoft.smtpAuthDisabled"),
    .smtp("535 5.7.139 Authentication unsuccessful, the request did not meet the criteria.", .configuration,
          "Authenticated SMTP", .untilSettingsChange, "microsoft.smtpAuthDisabledStatus"),
    .smtp("554 5.2.252 SendAsDenied; jane@example.com not allowed to send as boss@example.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied",
          .configuration, "Send As", .untilSettingsChange, "microsoft.sendAsDenied"),

    .smtp("554 5.2.252 Sender not allowed", .configuration, "Send As", .untilSettingsChange, "microsoft.sendAsDeniedStatus"),
    .smtp("550 5.7.60 SMTP; Client does not have permissions to send as this sender", .configuration, "Send As",
          .untilSettingsChange, "microsoft.sendAsDeniedClient"),

    // OAuth.
    .oauth("invalid_grant", "Token has been expired or revoked.", status: 400, .authentication, "connect again",
           .reconnect, "oauth.invalidGrant"),
    .oauth("invalid_grant", "AADSTS700082: The refresh token has expired due to inactivity.", status: 400,
           .authentication, "90 days", .reconnect, "oauth.invalidGrant"),
    .oauth("invalid_client", "The OAuth client was not found.", status: 401, .operator, "nothing for you to do",
           .untilSettingsChange, "oauth.invalidClient"),
    .oauth("unauthorized_client", nil, status: 400, .operator, "our side", .untilSettingsChange, "oauth.unauthorizedClient"),
    .oauth("invalid_scope", nil, status: 400, .operator, "our side", .untilSettingsChange, "oauth.invalidScope"),
    .oauth("access_denied", nil, status: 400, .authentication, "accept the requested access", .reconnect,
           "oauth.accessDenied"),
    .oauth("temporarily_unavailable", nil, status: 503, .temporary, "retries automatically", .backOff,
           "oauth.temporarilyUnavailable"),
]

extension KnownText {
    static func imap(
        _ status: IMAPResponse.Status, _ text: String, _ errorClass: ErrorClass, _ hint: String, _ retry: Retry,
        _ rule: String
    ) -> KnownText {
        imap(status, text, .authenticate, errorClass, hint, retry, rule)
    }
}

@Suite struct KnownTextTests {
    @Test(arguments: knownTexts)
    func classifies(_ known: KnownText) {
        let diagnosis = MailErrorClassifier.classify(known.failure)
        #expect(diagnosis.errorClass == known.errorClass)
        #expect(diagnosis.rule == known.rule)
        #expect(diagnosis.hint.lowercased().contains(known.hint.lowercased()), "hint: \(diagnosis.hint)")
        #expect(diagnosis.serverText == MailErrorClassifier.serverText(of: known.failure))
        switch (known.retry, diagnosis.retry) {
        case (.stopSoon, .stopSoon(let attempts, let interval)):
            #expect(attempts > 0 && attempts <= 3)
            #expect(interval >= .seconds(60))
        case (.reconnect, .stopSoon(let attempts, _)):
            #expect(attempts == 0)
        case (.backOff, .backOff(let backoff)):
            #expect(backoff.initial >= .seconds(60))
            #expect(backoff.maximum <= .seconds(24 * 3600))
        case (.untilSettingsChange, .untilSettingsChange):
            break
        default:
            Issue.record("retry \(diagnosis.retry), expected \(known.retry)")
        }
        // Authentication stops soon; configuration and operator never retry blindly.
        switch diagnosis.errorClass {
        case .authentication: #expect(diagnosis.retry.backoff == nil && diagnosis.retry != .untilSettingsChange)
        case .temporary: #expect(diagnosis.retry.backoff != nil)
        default: #expect(diagnosis.retry == .untilSettingsChange)
        }
        #expect((diagnosis.operatorNote != nil) == (diagnosis.errorClass == .operator))
    }

    @Test func serverTextIsVerbatim() {
        let text = "[ALERT] Invalid credentials (Failure)"
        let diagnosis = MailErrorClassifier.classify(.imap(IMAPResponse(status: .no, text: text, phase: .authenticate)))
        #expect(diagnosis.serverText == text)

        let reply = "535-5.7.8 Username and Password not accepted. Learn more at\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials\r\n"
        let smtp = MailErrorClassifier.classify(.smtp(SMTPReply(reply: reply)!))
        #expect(smtp.serverText == "535-5.7.8 Username and Password not accepted. Learn more at\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials")

        let oauth = MailErrorClassifier.classify(
            .oauth(OAuthTokenError(error: "invalid_grant", errorDescription: "Bad Request", httpStatus: 400)))
        #expect(oauth.serverText == "invalid_grant: Bad Request")
    }

    @Test func matchingIgnoresCase() {
        let diagnosis = MailErrorClassifier.classify(
            .imap(IMAPResponse(status: .no, text: "[authenticationfailed] AUTHENTICATION FAILED.", phase: .fetch)))
        #expect(diagnosis.errorClass == .authentication)
        #expect(diagnosis.rule == "imap.authenticationFailed")
    }

    @Test func everyRuleIdIsUniqueAndEveryRowIsReachable() {
        let ids = ErrorRules.table.map(\.id)
        #expect(Set(ids).count == ids.count)
        // Each row is hit by at least one known text, except rows kept for RFC 5530 codes.
        let hit = Set(knownTexts.map { MailErrorClassifier.classify($0.failure).rule })
        let rfc5530 = Set(ErrorRules.table.compactMap { rule -> String? in
            if case .responseCode = rule.pattern { return rule.id }
            return nil
        })
        let oauth = Set(ErrorRules.table.compactMap { rule -> String? in
            if case .oauthError = rule.pattern { return rule.id }
            return nil
        })
        #expect(Set(ids).subtracting(hit).subtracting(rfc5530).subtracting(oauth).isEmpty,
                "rows no known text reaches: \(Set(ids).subtracting(hit).subtracting(rfc5530).subtracting(oauth))")
    }
}
