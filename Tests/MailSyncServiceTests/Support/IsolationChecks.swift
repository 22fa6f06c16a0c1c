import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncService
import Testing

/// What the isolation tests look for in an answer, and how they compare answers.
extension IsolationTests {
    /// What of B's `answers` hold: the marker in any case, or an id or secret of B's not in `sent`.
    static func leaks(in answers: [[UInt8]], fixture: IsolationFixture, sent: Set<String>, extra: [String] = []) -> [String] {
        var found: [String] = []
        let marker = Array(fixture.marker.lower.utf8)
        var forbidden = fixture.secrets.filter { !sent.contains($0.value) }
        for (i, id) in extra.enumerated() { forbidden["event written during the test \(i)"] = id }
        for answer in answers {
            let folded = answer.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
            if contains(folded, marker) { found.append("marker \(fixture.marker.lower) (any case)") }
            for (what, value) in forbidden.sorted(by: { $0.key < $1.key }) where contains(answer, value) {
                found.append("\(what) (\(value.prefix(12))…)")
            }
        }
        return Array(Set(found)).sorted()
    }

    static func contains(_ bytes: [UInt8], _ text: String) -> Bool { contains(bytes, Array(text.utf8)) }

    static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            if bytes[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    /// `message` with each of `ids` replaced by its position, to compare answers to different ids.
    static func normalized(_ message: String, _ ids: [String]) -> String {
        var text = message
        for (i, value) in ids.enumerated().sorted(by: { $0.element.count > $1.element.count }) {
            text = text.replacingOccurrences(of: value, with: "<id \(i)>")
        }
        return text
    }

    /// B's own administrator (and the operator, for B's company and keys) see B's data through the
    /// same recorder: each answer holds the marker, and both cases appear.
    static func expectVisibleToB(_ fixture: IsolationFixture, recorder: WireRecorder) async throws {
        let transport = TCPClientTransport(host: "127.0.0.1", port: recorder.port)
        defer { transport.close() }
        let b = fixture.b
        let calls: [(MethodDescriptor, [UInt8], String)] = [
            (MailSync.Method.listUsers, ListUsersRequest().serializedBytes(), b.adminKey),
            (MailSync.Method.listLeadTimeline, { var r = ListLeadTimelineRequest(); r.leadId = b.leadID; return r }().serializedBytes(), b.adminKey),
            (MailSync.Method.getMailboxStatus, { var r = GetMailboxStatusRequest(); r.mailboxId = b.mailboxID; return r }().serializedBytes(), b.adminKey),
            (MailSync.Method.listErrorLog, ListErrorLogRequest().serializedBytes(), b.adminKey),
            (MailSync.Method.getCompanySettings, GetCompanySettingsRequest().serializedBytes(), b.adminKey),
            (MailSync.Method.getCompany, { var r = GetCompanyRequest(); r.companyId = b.id; return r }().serializedBytes(), fixture.harness.operatorKey),
            (MailSync.Method.listApiKeys, { var r = ListApiKeysRequest(); r.companyId = b.id; return r }().serializedBytes(), fixture.harness.operatorKey),
        ]
        var all: [UInt8] = []
        for (method, request, key) in calls {
            _ = recorder.take()
            let outcome = await RawCall.call(method, request: request, transport: transport, key: key)
            let wire = recorder.take()
            all += wire
            #expect(outcome.code == .ok, "\(method.method) as B: \(outcome.code) \(outcome.message)")
            #expect(!leaks(in: [wire], fixture: fixture, sent: []).isEmpty, "\(method.method) as B shows none of B's marked data")
        }
        #expect(contains(all, fixture.marker.lower) && contains(all, fixture.marker.upper), "B's answers hold the marker in both cases")
    }
}
