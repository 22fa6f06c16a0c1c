/// The known server texts and what they mean: one row per rule, most specific first.
///
/// The classifier takes the first row whose pattern matches, so a text that contains another's
/// (`[ALERT] Invalid credentials` inside `Invalid credentials`) must come before it. Adding a text
/// seen in the field is a data change here plus a row in the test table. Texts come from the help
/// article (seeds) and DESIGN.md "Error texts and their fixes"; response codes from RFC 5530.
///
/// Retry defaults: authentication ``RetryPolicy/authenticationDefault`` (2 more attempts, 15 min
/// apart); temporary ``Backoff/standard`` (1 min doubling to 1 h) unless the row says otherwise;
/// configuration and operator ``RetryPolicy/untilSettingsChange``.
enum ErrorRules {
    static let table: [ErrorRule] = [
        // MARK: Gmail and Microsoft texts (IMAP and SMTP)

        ErrorRule(id: "gmail.appPasswordRequired", pattern: .text("Application-specific password required"),
                  errorClass: .configuration, hint: Hints.appPassword, retry: .untilSettingsChange),
        ErrorRule(id: "gmail.webLogin", pattern: .text("log in via your web browser"),
                  errorClass: .configuration, hint: Hints.webLogin, retry: .untilSettingsChange),
        ErrorRule(id: "gmail.webAlert", pattern: .responseCode("WEBALERT"),
                  errorClass: .configuration, hint: Hints.webLogin, retry: .untilSettingsChange),
        ErrorRule(id: "gmail.imapDisabledForAccount", pattern: .text("not enabled for IMAP use"),
                  errorClass: .configuration,
                  hint: "IMAP is turned off for this Gmail account. In Gmail on the web, open Settings > See all settings > Forwarding and POP/IMAP, choose Enable IMAP and save. Then disconnect and reconnect Mail Sync.",
                  retry: .untilSettingsChange),
        ErrorRule(id: "gmail.imapDisabledForDomain", pattern: .text("IMAP access is disabled for your domain"),
                  errorClass: .configuration,
                  hint: "Your Google Workspace administrator has turned off IMAP for your organization. Ask them to allow it (Admin console > Apps > Google Workspace > Gmail > End User Access > POP and IMAP access), then disconnect and reconnect Mail Sync.",
                  retry: .untilSettingsChange),
        ErrorRule(id: "gmail.tooManyConnections", pattern: .text("Too many simultaneous connections"),
                  errorClass: .temporary,
                  hint: "Too many mail apps are connected to this mailbox at once (Gmail allows 15). Close mail apps or devices you no longer use. Mail Sync retries automatically.",
                  retry: .backOff(Backoff(initial: .seconds(300), maximum: .seconds(3600)))),
        ErrorRule(id: "microsoft.throttled", pattern: .text("Request is throttled"),
                  errorClass: .temporary,
                  hint: "Microsoft is limiting how fast this mailbox can be read. Mail Sync waits as long as Microsoft asks and then continues; there is nothing to do.",
                  retry: .temporaryDefault, throttling: true),
        ErrorRule(id: "microsoft.serverUnavailable", pattern: .text("Server Unavailable."),
                  errorClass: .temporary, hint: Hints.serverUnavailable, retry: .temporaryDefault),
        ErrorRule(id: "microsoft.authenticatedNotConnected", pattern: .text("User is authenticated but not connected"),
                  errorClass: .configuration,
                  hint: "Microsoft accepted the sign-in but could not open the mailbox. The email address must be the one you signed in with, the account needs an Exchange Online mailbox (a licence), and IMAP must be enabled for it (Microsoft 365 admin center > Users > Active users > Mail > Manage email apps > IMAP). Then disconnect and reconnect Mail Sync.",
                  retry: .untilSettingsChange),
        ErrorRule(id: "microsoft.commandTooLong", pattern: .text("Command Error. 10"),
                  errorClass: .operator, hint: Hints.operatorSide, retry: .untilSettingsChange,
                  operatorNote: "Exchange Online rejected a command as too long (usually a UID set): the sync engine must split UID FETCH/STORE sets into shorter ranges."),
        ErrorRule(id: "microsoft.smtpAuthDisabled", pattern: .text("SmtpClientAuthentication is disabled"),
                  errorClass: .configuration, hint: Hints.smtpAuthDisabled, retry: .untilSettingsChange),
        ErrorRule(id: "microsoft.sendAsDenied", pattern: .text("SendAsDenied"),
                  errorClass: .configuration, hint: Hints.sendAsDenied, retry: .untilSettingsChange),
        ErrorRule(id: "gmail.dailySendingLimit", pattern: .text("Daily user sending limit exceeded"),
                  errorClass: .temporary, hint: Hints.dailySendingLimit, retry: .backOff(.dailyQuota)),
        ErrorRule(id: "gmail.invalidCredentialsAlert", pattern: .text("[ALERT] Invalid credentials"),
                  errorClass: .authentication, hint: Hints.googleInvalidCredentials, retry: .authenticationDefault),
        ErrorRule(id: "gmail.authenticationFailedInvalidCredentials", pattern: .text("Invalid credentials (Failure)"),
                  errorClass: .authentication, hint: Hints.googleServerConfiguration, retry: .authenticationDefault),
        ErrorRule(id: "imap.connectionBroken", pattern: .text("IMAP connection broken"),
                  errorClass: .temporary,
                  hint: "The mail server closed the connection. This usually comes from incorrect server settings (check the server name, port 993 and SSL/TLS) or from checking mail too often: Gmail asks mail apps to check for new mail no more than once every 10 minutes, so close other apps that check this mailbox. For Gmail, unlocking the account at https://www.google.com/accounts/DisplayUnlockCaptcha can help. Mail Sync retries automatically, less often.",
                  retry: .backOff(.politeCheck)),

        // MARK: SMTP enhanced status codes (RFC 3463), when the text differs from the above

        ErrorRule(id: "gmail.smtpAppPasswordRequired", pattern: .smtpStatus("5.7.9"),
                  errorClass: .configuration, hint: Hints.appPassword, retry: .untilSettingsChange),
        ErrorRule(id: "smtp.credentialsRejected", pattern: .smtpStatus("5.7.8"),
                  errorClass: .authentication,
                  hint: "The mail server did not accept the user name or password for sending. Check both and enter them again; if your Google account uses 2-Step Verification, use an app password instead of your password. Then disconnect and reconnect Mail Sync.",
                  retry: .authenticationDefault),
        ErrorRule(id: "microsoft.smtpAuthDisabledStatus", pattern: .smtpStatus("5.7.139"),
                  errorClass: .configuration, hint: Hints.smtpAuthDisabled, retry: .untilSettingsChange),
        ErrorRule(id: "microsoft.sendAsDeniedStatus", pattern: .smtpStatus("5.2.252"),
                  errorClass: .configuration, hint: Hints.sendAsDenied, retry: .untilSettingsChange),
        // Exchange Online: "550 5.7.60 SMTP; Client does not have permissions to send as this sender".
        ErrorRule(id: "microsoft.sendAsDeniedClient", pattern: .smtpStatus("5.7.60"),
                  errorClass: .configuration, hint: Hints.sendAsDenied, retry: .untilSettingsChange),
        ErrorRule(id: "smtp.dailySendingLimit", pattern: .smtpStatus("5.4.5"),
                  errorClass: .temporary, hint: Hints.dailySendingLimit, retry: .backOff(.dailyQuota)),

        // MARK: IMAP response codes (RFC 5530)

        ErrorRule(id: "imap.throttled", pattern: .responseCode("THROTTLED"),
                  errorClass: .temporary,
                  hint: "The provider is limiting how fast this mailbox can be read. Mail Sync waits and then continues; there is nothing to do.",
                  retry: .backOff(Backoff(initial: .seconds(300), maximum: .seconds(3600))), throttling: true),
        ErrorRule(id: "imap.unavailable", pattern: .responseCode("UNAVAILABLE"),
                  errorClass: .temporary, hint: Hints.serverUnavailable, retry: .temporaryDefault),
        ErrorRule(id: "imap.overQuota", pattern: .responseCode("OVERQUOTA"),
                  errorClass: .temporary,
                  hint: "The mailbox went over a limit: either its storage is full, or more mail was downloaded than the provider allows per day (Gmail: 2.5 GB a day). If the mailbox is full, free up space; otherwise Mail Sync continues automatically when the limit resets.",
                  retry: .backOff(.dailyQuota)),
        ErrorRule(id: "imap.authenticationFailed", pattern: .responseCode("AUTHENTICATIONFAILED"),
                  errorClass: .authentication, hint: Hints.wrongPassword, retry: .authenticationDefault),
        ErrorRule(id: "imap.authorizationFailed", pattern: .responseCode("AUTHORIZATIONFAILED"),
                  errorClass: .configuration,
                  hint: "The login worked, but that account may not open this mailbox. Use the login of the mailbox you are connecting (not another user's or a shared mailbox's), then disconnect and reconnect Mail Sync.",
                  retry: .untilSettingsChange),
        ErrorRule(id: "imap.passwordExpired", pattern: .responseCode("EXPIRED"),
                  errorClass: .authentication,
                  hint: "Your email password has expired. Change it with your email provider, then enter the new password in Mail Sync and reconnect.",
                  retry: .reconnect),
        ErrorRule(id: "imap.privacyRequired", pattern: .responseCode("PRIVACYREQUIRED"),
                  errorClass: .configuration, hint: Hints.encryptionRequired, retry: .untilSettingsChange),
        ErrorRule(id: "imap.contactAdmin", pattern: .responseCode("CONTACTADMIN"),
                  errorClass: .configuration,
                  hint: "The mail server asks you to contact your email administrator: the account may be suspended or need an action. Once they have fixed it, disconnect and reconnect Mail Sync.",
                  retry: .untilSettingsChange),
        ErrorRule(id: "imap.noPermission", pattern: .responseCode("NOPERM"),
                  errorClass: .configuration, hint: Hints.folderNotReadable, retry: .untilSettingsChange),
        ErrorRule(id: "imap.nonexistent", pattern: .responseCode("NONEXISTENT"),
                  errorClass: .configuration, hint: Hints.folderNotReadable, retry: .untilSettingsChange),
        ErrorRule(id: "imap.limit", pattern: .responseCode("LIMIT"),
                  errorClass: .temporary, hint: Hints.serverUnavailable, retry: .temporaryDefault),
        ErrorRule(id: "imap.inUse", pattern: .responseCode("INUSE"),
                  errorClass: .temporary, hint: Hints.serverUnavailable, retry: .temporaryDefault),
        ErrorRule(id: "imap.serverBug", pattern: .responseCode("SERVERBUG"),
                  errorClass: .temporary, hint: Hints.serverUnavailable, retry: .temporaryDefault),

        // MARK: Plain texts that many servers share (least specific)

        ErrorRule(id: "imap.authenticateFailed", pattern: .text("AUTHENTICATE failed"),
                  errorClass: .authentication, hint: Hints.wrongLoginOrPassword, retry: .authenticationDefault),
        ErrorRule(id: "imap.loginFailed", pattern: .text("LOGIN failed"),
                  errorClass: .authentication, hint: Hints.wrongLoginOrPassword, retry: .authenticationDefault),
        ErrorRule(id: "imap.invalidCredentials", pattern: .text("Invalid credentials"),
                  errorClass: .authentication, hint: Hints.googleInvalidCredentials, retry: .authenticationDefault),

        // MARK: OAuth token endpoint errors (RFC 6749 §5.2)

        ErrorRule(id: "oauth.invalidGrant", pattern: .oauthError("invalid_grant"),
                  errorClass: .authentication,
                  hint: "Mail Sync's permission to use your mailbox has expired or was withdrawn (for example after a password change, after access was removed in your account's security settings, or after 90 days unused at Microsoft). Disconnect Mail Sync and connect again, signing in to your email account.",
                  retry: .reconnect),
        ErrorRule(id: "oauth.accessDenied", pattern: .oauthError("access_denied"),
                  errorClass: .authentication,
                  hint: "Your email provider did not allow Mail Sync to use your mailbox. Disconnect Mail Sync, connect again and accept the requested access when you sign in; if your organization blocks it, ask your email administrator to allow the app.",
                  retry: .reconnect),
        ErrorRule(id: "oauth.invalidClient", pattern: .oauthError("invalid_client"),
                  errorClass: .operator, hint: Hints.operatorSide, retry: .untilSettingsChange,
                  operatorNote: "The provider rejected our OAuth client id or secret (wrong, expired or deleted secret): rotate the client secret in the provider's app registration and in the server configuration."),
        ErrorRule(id: "oauth.unauthorizedClient", pattern: .oauthError("unauthorized_client"),
                  errorClass: .operator, hint: Hints.operatorSide, retry: .untilSettingsChange,
                  operatorNote: "Our OAuth app may not use this grant type, or is not enabled for the user's tenant: check the app registration."),
        ErrorRule(id: "oauth.invalidScope", pattern: .oauthError("invalid_scope"),
                  errorClass: .operator, hint: Hints.operatorSide, retry: .untilSettingsChange,
                  operatorNote: "The provider rejected the requested scopes. Gmail: https://mail.google.com/; Microsoft: IMAP.AccessAsUser.All, SMTP.Send, offline_access (resent on every refresh)."),
        ErrorRule(id: "oauth.invalidRequest", pattern: .oauthError("invalid_request"),
                  errorClass: .operator, hint: Hints.operatorSide, retry: .untilSettingsChange,
                  operatorNote: "The token endpoint called our request malformed: check the token request's parameters."),
        ErrorRule(id: "oauth.unsupportedGrantType", pattern: .oauthError("unsupported_grant_type"),
                  errorClass: .operator, hint: Hints.operatorSide, retry: .untilSettingsChange,
                  operatorNote: "The token endpoint does not support the grant type we sent."),
        ErrorRule(id: "oauth.temporarilyUnavailable", pattern: .oauthError("temporarily_unavailable"),
                  errorClass: .temporary, hint: Hints.signInServiceUnavailable, retry: .temporaryDefault),
        ErrorRule(id: "oauth.serverError", pattern: .oauthError("server_error"),
                  errorClass: .temporary, hint: Hints.signInServiceUnavailable, retry: .temporaryDefault),
    ]

    /// What each connection failure means; there is no server text to match.
    static func connection(_ kind: ConnectionFailure.Kind) -> (id: String, errorClass: ErrorClass, hint: String, retry: RetryPolicy) {
        switch kind {
        case .refused:
            return ("connection.refused", .temporary,
                    "The mail server refused the connection. If this mailbox synced before, the server is probably down for a moment and Mail Sync retries automatically. If you just set it up, check the server name and port (IMAP: 993 with SSL/TLS or 143 with STARTTLS; SMTP: 465 with SSL/TLS or 587 with STARTTLS).",
                    .temporaryDefault)
        case .hostNotFound:
            return ("connection.hostNotFound", .configuration,
                    "The mail server's name does not exist. Check the server name in Mail Sync settings for typos (for example imap.gmail.com or outlook.office365.com), then disconnect and reconnect Mail Sync.",
                    .untilSettingsChange)
        case .dnsTemporaryFailure:
            return ("connection.dnsTemporaryFailure", .temporary,
                    "The mail server's name could not be looked up just now. Mail Sync retries automatically; nothing to do unless it lasts.",
                    .temporaryDefault)
        case .timeout:
            return ("connection.timeout", .temporary,
                    "The mail server did not answer in time. Mail Sync retries automatically. If it never worked, check the server name and port: a wrong port often shows up as a timeout.",
                    .temporaryDefault)
        case .tlsOnPlaintextPort:
            return ("connection.tlsOnPlaintextPort", .configuration, Hints.encryptionRequired, .untilSettingsChange)
        case .certificateUntrusted:
            return ("connection.certificateUntrusted", .configuration,
                    "The mail server's security certificate is not trusted (self-signed or from a private authority), so Mail Sync will not send your password to it. Use the server name your email provider gives (for GoDaddy, imap.secureserver.net), or ask your IT team for a certificate from a public authority. Then disconnect and reconnect Mail Sync.",
                    .untilSettingsChange)
        case .certificateExpired:
            return ("connection.certificateExpired", .temporary,
                    "The mail server's security certificate has expired, so Mail Sync will not send your password to it. Ask your email provider or IT team to renew it; Mail Sync retries automatically.",
                    .backOff(.dailyQuota))
        case .certificateHostnameMismatch:
            return ("connection.certificateHostnameMismatch", .configuration,
                    "The mail server's security certificate was issued for another server name. Use the exact server name your email provider gives (for example imap.secureserver.net rather than mail.yourdomain.com), then disconnect and reconnect Mail Sync.",
                    .untilSettingsChange)
        case .resetMidSession:
            return ("connection.resetMidSession", .temporary,
                    "The connection to the mail server was cut. Mail Sync retries automatically; nothing to do unless it keeps happening.",
                    .temporaryDefault)
        case .tooSlow:
            return ("connection.tooSlow", .temporary,
                    "The mail server answered so slowly that this sync stopped when its time budget ran out. Everything read until then is saved; Mail Sync continues where it stopped, a little later. Nothing to do unless it keeps happening; then ask your email provider whether the server is overloaded.",
                    .temporaryDefault)
        case .notAllowed:
            return ("connection.notAllowed", .configuration,
                    "This Mail Sync server does not connect to that address: private, loopback and link-local addresses are refused, and so is a password sent without SSL/TLS. Use your mail server's public name with SSL/TLS (IMAP: 993, or 143 with STARTTLS; sending: 465, or 587 with STARTTLS), then disconnect and reconnect Mail Sync. If the server is on your company's own network, the operators of this Mail Sync server must allow it.",
                    .untilSettingsChange)
        case .dailyLimitReached:
            return ("connection.dailyLimitReached", .temporary,
                    "Mail Sync has nearly used what your email provider lets one mailbox download in a day, so it paused to keep your account from being locked. Everything read so far is saved; syncing continues after midnight UTC. Nothing to do.",
                    .backOff(.dailyQuota))
        case .replyOverLimit:
            return ("connection.replyOverLimit", .temporary,
                    "The mail server sent more than Mail Sync accepts in one reply (the message says what), so Mail Sync closed the connection. Mail already synced is kept, and Mail Sync retries automatically, waiting longer each time. If it keeps happening, the mail server is misbehaving: check that the server name and port are your email provider's, and ask your provider or IT team to look at the server.",
                    .temporaryDefault)
        }
    }
}

/// Hints that several rules share.
enum Hints {
    static let wrongLoginOrPassword = "Either the login name or the password you entered is incorrect. Check both and enter them again, then disconnect and reconnect Mail Sync. Microsoft 365 accounts no longer accept passwords from mail apps: connect with \"Sign in with Microsoft\" instead."
    static let wrongPassword = "The mail server refused the login name or password. Check both, and the server settings (server name, port, SSL/TLS). If your account uses two-step verification, create an app password and use it instead of your password. Then disconnect and reconnect Mail Sync."
    static let appPassword = "Your account uses two-step verification (Google: 2-Step Verification), so the server will not accept your normal password here. Create an app password (Google Account > Security > 2-Step Verification > App passwords) and enter it in Mail Sync instead, or connect with \"Sign in with Google\". Then disconnect and reconnect Mail Sync."
    static let webLogin = "Google blocked the sign-in: log in to Gmail in your web browser and complete any security check. Google no longer accepts plain passwords from mail apps (\"less secure apps\"): connect with \"Sign in with Google\" (OAuth), or turn on 2-Step Verification and use an app password. On older Google Workspace accounts, an administrator can instead log in to the Admin Console as the affected user and enable \"Allow less secure apps\". Then disconnect and reconnect Mail Sync."
    static let googleInvalidCredentials = "Google refused the login: either the password is wrong, or Google's protection against robots and automated scripts, unusual bandwidth use or account abuse blocked it. Check the password (with 2-Step Verification, use an app password). If it is right, sign in to Gmail in a web browser, unlock the account at https://www.google.com/accounts/DisplayUnlockCaptcha, and connect with \"Sign in with Google\" or an app password. Then disconnect and reconnect Mail Sync."
    static let googleServerConfiguration = "Gmail refused the login. Check the email address and password (with 2-Step Verification, use an app password) and the server settings (imap.gmail.com, port 993, SSL/TLS). Checking mail too often can also cause this: Gmail asks mail apps to check no more than once every 10 minutes. Unlock the account at https://www.google.com/accounts/DisplayUnlockCaptcha, then disconnect and reconnect Mail Sync."
    static let serverUnavailable = "The mail server is temporarily unavailable. Mail Sync retries automatically; nothing to do unless it lasts more than a day."
    static let signInServiceUnavailable = "Your email provider's sign-in service is temporarily unavailable. Mail Sync retries automatically; nothing to do unless it lasts more than a day."
    static let smtpAuthDisabled = "Sending through Microsoft 365 with a mail app (Authenticated SMTP) is turned off for this mailbox or organization. An administrator can turn it on in the Microsoft 365 admin center > Users > Active users > the user > Mail > Manage email apps > Authenticated SMTP. Then try again."
    static let sendAsDenied = "This mailbox is not allowed to send as the From address. Send from your own address, or ask your Microsoft 365 administrator to give your mailbox \"Send As\" permission for that address."
    static let dailySendingLimit = "You reached your email provider's daily sending limit (Gmail: about 500 messages a day, 2,000 for Google Workspace). No more mail goes out until the limit resets, within 24 hours; send the Smart Mail again then (it was not sent)."
    static let encryptionRequired = "The security setting does not match the port. Use port 993 with SSL/TLS, or port 143 with STARTTLS (for sending: 465 with SSL/TLS, or 587 with STARTTLS). Then disconnect and reconnect Mail Sync."
    static let folderNotReadable = "A folder Mail Sync reads does not exist or may not be opened. Check that your Inbox and Sent folders are visible to mail apps (Gmail: Settings > Labels > Show in IMAP), then resync."
    static let operatorSide = "Mail Sync could not connect because of a problem on our side, not with your account. Our team has been notified; there is nothing for you to do."
}
