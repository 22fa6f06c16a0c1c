/// Why a connection was closed, carried in GOAWAY.
///
/// An extensible enum: an unknown code from a newer peer is kept as a number.
public struct ErrorCode: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A graceful close (shutdown, idle timeout).
    public static let noError = ErrorCode(rawValue: 0)
    /// The peer broke a rule of this specification.
    public static let protocolError = ErrorCode(rawValue: 1)
    /// The sender failed for a reason of its own.
    public static let internalError = ErrorCode(rawValue: 2)
    /// The peer sent more than its flow-control window allowed.
    public static let flowControlError = ErrorCode(rawValue: 3)
    /// A frame was longer than the receiver's maximum frame size.
    public static let frameSizeError = ErrorCode(rawValue: 4)
    /// The connection did not start with the preface.
    public static let badPreface = ErrorCode(rawValue: 5)
    /// The peer's preface named a version the receiver does not speak.
    public static let unsupportedVersion = ErrorCode(rawValue: 6)
    /// The peer sent too many pings, settings, empty frames or resets.
    public static let enhanceYourCalm = ErrorCode(rawValue: 7)
    /// The peer did not finish the handshake in time.
    public static let handshakeTimeout = ErrorCode(rawValue: 8)
    /// A frame stayed incomplete for too long (a slow or stalled sender).
    public static let readTimeout = ErrorCode(rawValue: 9)
    /// The server is at its connection limit.
    public static let tooManyConnections = ErrorCode(rawValue: 10)
    /// The peer did not answer a keepalive ping in time.
    public static let keepaliveTimeout = ErrorCode(rawValue: 11)

    static let names = [
        "no error", "protocol error", "internal error", "flow control error", "frame size error",
        "bad preface", "unsupported version", "enhance your calm", "handshake timeout",
        "read timeout", "too many connections", "keepalive timeout",
    ]

    public var description: String {
        rawValue < Self.names.count ? Self.names[Int(rawValue)] : "error \(rawValue)"
    }
}

/// A violation that ends the connection: sent to the peer in GOAWAY, then the connection closes.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: ErrorCode
    /// What happened, for the peer's developer.
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
