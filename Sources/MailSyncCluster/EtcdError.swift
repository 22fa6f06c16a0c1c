/// What can go wrong talking to etcd, each case saying what to do.
public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An endpoint in the settings is not `http://HOST:PORT`.
    case badEndpoint(String, reason: String)
    /// No member answered (every endpoint was tried): refused, reset, timed out, or no leader.
    case unavailable(String)
    /// A member answered with an error of etcd's own (gRPC code and message).
    case server(code: Int, message: String)
    /// The reply was not what etcd's JSON gateway sends, or was larger than allowed.
    case badReply(String)
    /// The lease is gone (expired or revoked): whatever it held is gone with it.
    case leaseLost(Int64)

    public var description: String {
        switch self {
        case .badEndpoint(let text, let reason):
            "the etcd endpoint \"\(text)\" is not usable: \(reason)"
        case .unavailable(let detail):
            "no etcd member answered (\(detail)); check that the cluster is up and has a leader and that the endpoints are right"
        case .server(let code, let message):
            "etcd refused the request (code \(code)): \(message)"
        case .badReply(let detail):
            "etcd's reply could not be read: \(detail)"
        case .leaseLost(let id):
            "the etcd lease \(id) expired or was revoked: register again"
        }
    }
}
