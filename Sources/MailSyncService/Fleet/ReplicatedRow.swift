import Foundation
import MailSyncCluster
import MailSyncStorage
import MailSyncTenantData

/// A replicated control row as its etcd record (`<prefix>control/<table>/<key>`): JSON that keeps
/// each value's SQLite storage class, so a row reads back exactly as it was written.
///
/// `{"columns": ["id", …], "values": [{"t": "s", "v": "…"}, …], "node": "node-a"}`; value kinds
/// `i` (64-bit integer, as text), `r` (real, as text), `s` (text), `b` (blob, base64), `n` (null).
/// A deleted row is `{"deleted": true, "node": …}`. Records are at most 64 KiB; one that does
/// not decode is an error naming its key (never skipped: a skipped key row would lock a user out
/// on one node and not another).
enum ReplicatedRow {
    static let maxRecordBytes = 64 * 1024

    struct Record: Codable {
        var columns: [String]?
        var values: [Value]?
        var deleted: Bool?
        var node: String?
    }

    struct Value: Codable {
        var t: String
        var v: String?
    }

    static func encode(_ row: Row?, node: NodeID) throws -> [UInt8] {
        let record: Record
        if let row {
            record = Record(columns: row.columns, values: row.values.map(value), node: node.rawValue)
        } else {
            record = Record(deleted: true, node: node.rawValue)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array(try encoder.encode(record))
    }

    private static func value(_ value: SQLiteValue) -> Value {
        switch value {
        case .integer(let number): Value(t: "i", v: String(number))
        case .real(let number): Value(t: "r", v: "\(number)")
        case .text(let text): Value(t: "s", v: text)
        case .blob(let bytes): Value(t: "b", v: Data(bytes).base64EncodedString())
        case .null: Value(t: "n", v: nil)
        }
    }

    /// The row a record under `keys.control` holds, with its table and key from the etcd key.
    static func decode(_ kv: EtcdKeyValue, keys: ClusterKeys) throws -> ControlReplica.Incoming {
        guard kv.key.hasPrefix(keys.control) else { throw ControlReplicaError("\(kv.key) is not a control record") }
        let path = kv.key.dropFirst(keys.control.count)
        guard let slash = path.firstIndex(of: "/"), let table = ControlReplica.Table(rawValue: String(path[..<slash])) else {
            throw ControlReplicaError("\(kv.key) names no replicated table")
        }
        let key = String(path[path.index(after: slash)...])
        guard !key.isEmpty, key.utf8.count <= 256 else { throw ControlReplicaError("\(kv.key) has no usable row key") }
        guard kv.value.count <= maxRecordBytes else {
            throw ControlReplicaError("\(kv.key) holds \(kv.value.count) bytes, more than a record's \(maxRecordBytes)")
        }
        let record: Record
        do {
            record = try JSONDecoder().decode(Record.self, from: Data(kv.value))
        } catch {
            throw ControlReplicaError("\(kv.key) does not hold a control row: \(error)")
        }
        if record.deleted == true { return ControlReplica.Incoming(table: table, key: key, row: nil) }
        guard let columns = record.columns, let values = record.values, columns.count == values.count, !columns.isEmpty else {
            throw ControlReplicaError("\(kv.key) holds a row whose columns and values do not pair up")
        }
        let decoded = try values.map { try sqliteValue($0, key: kv.key) }
        return ControlReplica.Incoming(table: table, key: key, row: Row(columns: columns, values: decoded))
    }

    private static func sqliteValue(_ value: Value, key: String) throws -> SQLiteValue {
        switch value.t {
        case "n": return .null
        case "s": if let text = value.v { return .text(text) }
        case "i": if let text = value.v, let number = Int64(text) { return .integer(number) }
        case "r": if let text = value.v, let number = Double(text) { return .real(number) }
        case "b": if let text = value.v, let data = Data(base64Encoded: text) { return .blob(Array(data)) }
        default: break
        }
        throw ControlReplicaError("\(key) holds a value of kind '\(value.t.prefix(8))' that does not read as one")
    }
}
