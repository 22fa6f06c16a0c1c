import Foundation
import MailSyncCluster
import MailSyncStorage
@testable import MailSyncService
import MailSyncTenantData
import Testing

/// A control row as its etcd record: exact round trips for every storage class, and records that
/// do not hold a row refused naming their key.
@Suite("Fleet: replicated control rows as etcd records")
struct ReplicatedRowTests {
    static let keys = ClusterKeys(prefix: "/fleet/")

    static func kv(_ key: String, _ value: [UInt8]) -> EtcdKeyValue {
        EtcdKeyValue(key: key, value: value, modRevision: 1, createRevision: 1, version: 1, lease: 0)
    }

    @Test("every value kind reads back exactly, and a deleted row reads back as deleted")
    func roundTrip() throws {
        let row = Row(
            columns: ["id", "n", "r", "b", "z", "t"],
            values: [.text("k1"), .integer(Int64.min), .real(0.1 + 0.2), .blob([0, 1, 255]), .null, .text("é\u{0}\"\\\n")])
        let node = NodeID("node-a")!
        let bytes = try ReplicatedRow.encode(row, node: node)
        let incoming = try ReplicatedRow.decode(Self.kv("/fleet/control/api_keys/k1", bytes), keys: Self.keys)
        #expect(incoming == ControlReplica.Incoming(table: .apiKeys, key: "k1", row: row))
        let gone = try ReplicatedRow.decode(Self.kv("/fleet/control/companies/c1", try ReplicatedRow.encode(nil, node: node)), keys: Self.keys)
        #expect(gone == ControlReplica.Incoming(table: .companies, key: "c1", row: nil))
    }

    @Test("records that are not rows are refused naming their key", arguments: [
        ("/fleet/control/users/u1", #"{"columns":["id"],"values":[{"t":"s","v":"u1"}]}"#),
        ("/fleet/control/companies/", #"{"columns":["id"],"values":[{"t":"s","v":"c"}]}"#),
        ("/fleet/control/companies/c1", #"{"columns":["id","name"],"values":[{"t":"s","v":"c1"}]}"#),
        ("/fleet/control/companies/c1", #"{"columns":["id"],"values":[{"t":"i","v":"12x"}]}"#),
        ("/fleet/control/companies/c1", #"{"columns":["id"],"values":[{"t":"q","v":"1"}]}"#),
        ("/fleet/control/companies/c1", #"{"columns":["id"],"values":[{"t":"b","v":"not base64!"}]}"#),
        ("/fleet/control/companies/c1", #"not json"#),
        ("/fleet/control/companies/c1", #"{}"#),
        ("/other/control/companies/c1", #"{"deleted":true}"#),
    ])
    func refused(key: String, value: String) throws {
        let error = #expect(throws: ControlReplicaError.self) {
            _ = try ReplicatedRow.decode(Self.kv(key, Array(value.utf8)), keys: Self.keys)
        }
        #expect(error?.description.contains(key) == true, "\(String(describing: error))")
    }

    @Test("a record over 64 KiB is refused before it is parsed")
    func oversized() {
        let value = Array(#"{"columns":["id"],"values":[{"t":"s","v":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 70_000) + Array(#""}]}"#.utf8)
        #expect(throws: ControlReplicaError.self) { _ = try ReplicatedRow.decode(Self.kv("/fleet/control/companies/c1", value), keys: Self.keys) }
    }
}
