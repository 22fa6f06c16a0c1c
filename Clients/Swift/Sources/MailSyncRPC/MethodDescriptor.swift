/// What the generated code knows about one RPC: its name, shape and who may call it.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// How requests and responses flow.
    public enum Kind: String, Sendable, Hashable {
        /// One request, one response.
        case unary
        /// One request, a stream of responses.
        case serverStreaming
        /// A stream of requests, one response.
        case clientStreaming
        /// Streams both ways.
        case bidirectionalStreaming
    }

    /// The service's full name, for example `mailsync.v1.MailSync`.
    public let service: String
    /// The method's name, for example `GetMailbox`.
    public let method: String
    public let kind: Kind
    /// The roles allowed to call it, as declared in the schema. The server refuses any other caller
    /// with `permission denied` before the handler runs.
    public let allowedRoles: [String]
    /// Whether repeating the call has the same effect as making it once (safe to retry).
    public let isIdempotent: Bool
    /// The roles, among `allowedRoles`, that may act on other users' resources (mailboxes, error
    /// logs, sync events, timelines) in their company: the schema's `manage_others`.
    ///
    /// A caller with any other allowed role may act only on their own; the handler enforces this
    /// with `mayActOnOthers(role:)`, since only it knows whose resource a request names. Empty when
    /// the method has no own-versus-others rule.
    public let othersRoles: [String]

    public init(
        service: String, method: String, kind: Kind, allowedRoles: [String], isIdempotent: Bool,
        othersRoles: [String] = []
    ) {
        self.service = service
        self.method = method
        self.kind = kind
        self.allowedRoles = allowedRoles
        self.isIdempotent = isIdempotent
        self.othersRoles = othersRoles
    }

    /// Whether a caller with `role` may act on another user's resources through this method.
    ///
    /// False for a role limited to its own resources, and for every role when `othersRoles` is
    /// empty, so a handler that asks about a method without the rule fails closed.
    public func mayActOnOthers(role: String) -> Bool {
        othersRoles.contains(role)
    }

    /// `service/method`, the name sent on the wire.
    public var fullName: String { "\(service)/\(method)" }

    public var description: String { fullName }
}
