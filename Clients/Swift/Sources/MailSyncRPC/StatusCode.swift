/// The outcome of a call, with gRPC's codes and meanings.
///
/// An extensible enum: a struct wrapping the raw value, so a code added later decodes as
/// `Code(rawValue:)` with no name instead of failing.
public struct StatusCode: Sendable, Hashable, CustomStringConvertible {
    /// The code's number on the wire (0–17 today).
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Not an error.
    public static let ok = StatusCode(rawValue: 0)
    /// The call was cancelled, usually by the caller.
    public static let cancelled = StatusCode(rawValue: 1)
    /// An error that fits no other code.
    public static let unknown = StatusCode(rawValue: 2)
    /// The caller sent something invalid, whatever the server's state (names the field).
    public static let invalidArgument = StatusCode(rawValue: 3)
    /// The deadline passed before the call finished.
    public static let deadlineExceeded = StatusCode(rawValue: 4)
    /// The entity does not exist, or the caller may not know that it exists.
    public static let notFound = StatusCode(rawValue: 5)
    /// The entity the caller tried to create exists already.
    public static let alreadyExists = StatusCode(rawValue: 6)
    /// The caller is known but may not do this.
    public static let permissionDenied = StatusCode(rawValue: 7)
    /// A quota or limit ran out (message size, concurrent calls, a plan's cap).
    public static let resourceExhausted = StatusCode(rawValue: 8)
    /// The system is not in a state that allows this (the message says which state).
    public static let failedPrecondition = StatusCode(rawValue: 9)
    /// Aborted by a concurrency conflict; retry the whole sequence.
    public static let aborted = StatusCode(rawValue: 10)
    /// A value outside the valid range (for example paging past the end).
    public static let outOfRange = StatusCode(rawValue: 11)
    /// The method is not implemented by this server.
    public static let unimplemented = StatusCode(rawValue: 12)
    /// An invariant broke inside the server.
    public static let `internal` = StatusCode(rawValue: 13)
    /// The service cannot be reached or is shutting down; retrying may succeed.
    public static let unavailable = StatusCode(rawValue: 14)
    /// Data was lost or corrupted.
    public static let dataLoss = StatusCode(rawValue: 15)
    /// The caller's credentials are missing or invalid.
    public static let unauthenticated = StatusCode(rawValue: 16)
    /// Mail Sync's own (not gRPC's): the company lives on another node of the fleet. The trailers
    /// name it (``Metadata/ownerAddressKey``, ``Metadata/ownerCompanyKey``); nothing was done, so
    /// the same call may be made again there. The generated client follows it by itself.
    public static let moved = StatusCode(rawValue: 17)

    static let names: [String] = [
        "ok", "cancelled", "unknown", "invalid argument", "deadline exceeded", "not found",
        "already exists", "permission denied", "resource exhausted", "failed precondition",
        "aborted", "out of range", "unimplemented", "internal", "unavailable", "data loss",
        "unauthenticated", "moved",
    ]

    /// Every code this build knows, in numeric order.
    public static let all: [StatusCode] = (0...17).map { StatusCode(rawValue: $0) }

    /// The code's name in words, for example "deadline exceeded".
    public var description: String {
        rawValue < Self.names.count ? Self.names[Int(rawValue)] : "code \(rawValue)"
    }
}
