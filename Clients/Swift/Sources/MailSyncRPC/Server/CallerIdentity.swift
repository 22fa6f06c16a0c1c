/// Who is calling, as established by an `Authenticator` from the call's metadata.
public protocol CallerIdentity: Sendable {
    /// The caller's role, compared with the method's `allowedRoles`.
    var role: String { get }
    /// How the caller appears in logs (never a secret).
    var logName: String { get }
}

/// Turns a call's metadata into a caller.
public protocol Authenticator: Sendable {
    /// - Returns: the caller, or nil when the metadata carries no credentials at all.
    /// - Throws: `RPCError(.unauthenticated)` for credentials that are present but not valid.
    func authenticate(_ metadata: Metadata, method: MethodDescriptor) async throws -> (any CallerIdentity)?
}

extension MethodDescriptor {
    /// The role that names a method anyone may call without credentials (health checks, version).
    public static let anyoneRole = "anyone"
}
