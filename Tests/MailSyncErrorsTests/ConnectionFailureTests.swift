import Testing

@testable import MailSyncErrors

@Suite struct ConnectionFailureTests {
    @Test(arguments: [
        (ConnectionFailure.Kind.refused, ErrorClass.temporary, "port"),
        (.hostNotFound, .configuration, "server name"),
        (.dnsTemporaryFailure, .temporary, "retries automatically"),
        (.timeout, .temporary, "wrong port"),
        (.tlsOnPlaintextPort, .configuration, "STARTTLS"),
        (.certificateUntrusted, .configuration, "not trusted"),
        (.certificateExpired, .temporary, "expired"),
        (.certificateHostnameMismatch, .configuration, "another server name"),
        (.resetMidSession, .temporary, "cut"),
    ])
    func classifies(_ kind: ConnectionFailure.Kind, _ errorClass: ErrorClass, _ hint: String) {
        let diagnosis = MailErrorClassifier.classify(.connection(ConnectionFailure(kind, host: "imap.example.com", port: 993)))
        #expect(diagnosis.errorClass == errorClass)
        #expect(diagnosis.hint.contains(hint), "hint: \(diagnosis.hint)")
        #expect(diagnosis.rule.hasPrefix("connection."))
        #expect(diagnosis.serverText.hasSuffix("(imap.example.com:993)"))
        if errorClass == .temporary {
            #expect(diagnosis.retry.backoff != nil)
        } else {
            #expect(diagnosis.retry == .untilSettingsChange)
        }
    }

    @Test func everyKindHasARow() {
        for kind in ConnectionFailure.Kind.allCases {
            #expect(MailErrorClassifier.classify(.connection(ConnectionFailure(kind, host: "h"))).rule != "generic.connection")
        }
    }

    @Test func systemWordsAreKept() {
        let diagnosis = MailErrorClassifier.classify(.connection(ConnectionFailure(
            .tlsOnPlaintextPort, host: "mail.example.com", port: 143,
            detail: "error:0A00010B:SSL routines::wrong version number")))
        #expect(diagnosis.serverText == "error:0A00010B:SSL routines::wrong version number (mail.example.com:143)")
    }
}
