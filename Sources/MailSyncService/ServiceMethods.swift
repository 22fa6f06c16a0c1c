import MailSyncClient
public import MailSyncCoding
public import MailSyncRPC

/// The methods the server serves: every RPC in the schema, each either implemented or answering
/// `unimplemented` until its issue lands.
///
/// Built from the generated `MailSync.UnimplementedHandler` with the implemented methods swapped in
/// by descriptor, so a new RPC in the schema is served (as `unimplemented`) without a code change,
/// and its roles are enforced by the router all the same.
public enum ServiceMethods {
    public static func make(startedAt: Timestamp) -> [ServerMethod] {
        let serverInfo = ServerInfoHandler(startedAt: startedAt)
        let implemented: [ServerMethod] = [
            .unary(MailSync.Method.getServerInfo) { try await serverInfo.getServerInfo($0, context: $1) }
        ]
        let byName = Dictionary(uniqueKeysWithValues: implemented.map { ($0.descriptor.fullName, $0) })
        return MailSync.UnimplementedHandler().serverMethods.map { byName[$0.descriptor.fullName] ?? $0 }
    }
}
