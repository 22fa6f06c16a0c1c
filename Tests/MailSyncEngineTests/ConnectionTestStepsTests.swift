import MailSyncErrors
import MailSyncMailTransport
import Testing
@testable import MailSyncEngine

/// `ConnectionTestSteps`: which step a failure belongs to, the steps after it, and each step's time.
@Suite("Connection test steps", .timeLimit(.minutes(1)))
struct ConnectionTestStepsTests {
    static let timings = ConnectTimings(
        resolved: .milliseconds(5), connected: .milliseconds(25), tlsDone: .milliseconds(65), total: .milliseconds(100))

    static func failure(_ kind: ConnectionFailure.Kind) -> MailFailure {
        .connection(ConnectionFailure(kind, host: "imap.example.com", port: 993, detail: "detail"))
    }

    static func outcomes(_ steps: ConnectionTestSteps) -> [ConnectionTestSteps.Outcome] { steps.steps.map(\.outcome) }

    @Test("each connect-stage failure lands on its step", arguments: [
        (ConnectionFailure.Kind.hostNotFound, ConnectTimings(total: .milliseconds(3)), ConnectionTestSteps.Name.resolve),
        (.dnsTemporaryFailure, ConnectTimings(total: .milliseconds(3)), .resolve),
        (.notAllowed, ConnectTimings(resolved: .milliseconds(2), total: .milliseconds(2)), .resolve),
        (.refused, ConnectTimings(resolved: .milliseconds(2), total: .milliseconds(3)), .connect),
        (.timeout, ConnectTimings(resolved: .milliseconds(2), total: .seconds(30)), .connect),
        (.timeout, ConnectTimings(resolved: .milliseconds(2), connected: .milliseconds(4), total: .seconds(30)), .tls),
        (.timeout, timings, .login),
        (.certificateUntrusted, ConnectTimings(resolved: .milliseconds(2), connected: .milliseconds(4), total: .milliseconds(9)), .tls),
        (.certificateHostnameMismatch, ConnectTimings(resolved: .milliseconds(2), connected: .milliseconds(4), total: .milliseconds(9)), .tls),
        (.tlsOnPlaintextPort, ConnectTimings(resolved: .milliseconds(2), connected: .milliseconds(4), total: .milliseconds(9)), .tls),
        (.resetMidSession, ConnectTimings(resolved: .milliseconds(2), connected: .milliseconds(4), total: .milliseconds(9)), .tls),
    ] as [(ConnectionFailure.Kind, ConnectTimings, ConnectionTestSteps.Name)])
    func placement(kind: ConnectionFailure.Kind, timings: ConnectTimings, expected: ConnectionTestSteps.Name) {
        #expect(ConnectionTestSteps.step(of: Self.failure(kind), timings: timings, usesTLS: true) == expected)
    }

    @Test("the server's NO to LOGIN fails LOGIN; the steps after it are skipped; earlier ones keep their times")
    func loginRefused() {
        let diagnosis = MailErrorClassifier.classify(.imap(IMAPResponse(status: .no, text: "[AUTHENTICATIONFAILED] Authentication failed.", phase: .authenticate, tag: "A1")))
        let steps = ConnectionTestSteps(
            usesTLS: true, failure: .connect(diagnosis, .imap(IMAPResponse(status: .no, text: "x", phase: .authenticate)), Self.timings), timings: nil)
        #expect(Self.outcomes(steps) == [.ok, .ok, .ok, .failed, .skipped, .skipped])
        #expect(steps.steps.map(\.durationMs) == [5, 20, 40, 35, 0, 0])
        #expect(steps.steps[3].errorClass == .authentication)
        #expect(steps.steps[3].detail.contains("AUTHENTICATIONFAILED"))
        #expect(!steps.steps[3].hint.isEmpty)
        #expect(!steps.ok)
    }

    @Test("plain text: TLS does not apply, and the rest passes")
    func plainTextSuccess() {
        let plain = ConnectTimings(resolved: .milliseconds(1), connected: .milliseconds(2), total: .milliseconds(10))
        let steps = ConnectionTestSteps(
            usesTLS: false, failure: nil, timings: plain, list: (.milliseconds(7), "INBOX found"), selectInbox: (.milliseconds(3), "4 messages"))
        #expect(Self.outcomes(steps) == [.ok, .ok, .notApplicable, .ok, .ok, .ok])
        #expect(steps.steps.map(\.durationMs) == [1, 1, 0, 8, 7, 3])
        #expect(steps.steps[5].detail == "4 messages")
        #expect(steps.ok)
    }

    @Test("a failure after login: LIST or the INBOX")
    func laterFailures() {
        let diagnosis = MailErrorClassifier.classify(.imap(IMAPResponse(status: .no, text: "Mailbox doesn't exist: INBOX", phase: .select, tag: "A3")))
        let list = ConnectionTestSteps(usesTLS: true, failure: .list(diagnosis), timings: Self.timings)
        #expect(Self.outcomes(list) == [.ok, .ok, .ok, .ok, .failed, .skipped])
        let inbox = ConnectionTestSteps(usesTLS: true, failure: .selectInbox(diagnosis), timings: Self.timings, list: (.milliseconds(4), "INBOX found"))
        #expect(Self.outcomes(inbox) == [.ok, .ok, .ok, .ok, .ok, .failed])
        #expect(inbox.steps[5].detail.contains("INBOX"))
    }

    @Test("no credentials to log in with (nothing connected): LOGIN fails, nothing before it claims a time")
    func noCredentials() {
        let diagnosis = Diagnosis(errorClass: .configuration, hint: "Enter the password again.", retry: .untilSettingsChange, serverText: "no stored credentials", rule: "local.noSecret")
        let steps = ConnectionTestSteps(usesTLS: true, failure: .connect(diagnosis, nil, nil), timings: nil)
        #expect(Self.outcomes(steps) == [.ok, .ok, .ok, .failed, .skipped, .skipped])
        #expect(steps.steps.allSatisfy { $0.durationMs == 0 })
    }
}
