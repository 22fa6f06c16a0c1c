public import NIOCore

/// The 12 bytes each side sends first: 8 magic bytes, a version, and two reserved zero bytes.
///
/// The magic `8E 4D 53 59 4E 43 0D 0A` ("\x8EMSYNC\r\n") cannot be mistaken for HTTP/1 (a method
/// in ASCII), HTTP/2 (`PRI * HTTP/2.0`) or TLS (a record starting `16 03`). The client sends its
/// preface; the server answers with its own, naming the version it speaks. A server that does not
/// speak the client's version answers with its preface and a GOAWAY `unsupportedVersion`.
public struct Preface: Sendable, Hashable {
    public static let magic: [UInt8] = [0x8E, 0x4D, 0x53, 0x59, 0x4E, 0x43, 0x0D, 0x0A]
    public static let size = 12
    /// The version this build speaks.
    public static let currentVersion: UInt16 = 1

    public var version: UInt16

    public init(version: UInt16 = Preface.currentVersion) {
        self.version = version
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeBytes(Self.magic)
        buffer.writeInteger(version)
        buffer.writeInteger(UInt16(0))
    }

    /// What the first bytes of a connection turned out to be.
    public enum ParseResult: Sendable, Hashable {
        /// Fewer than 12 bytes so far, and nothing wrong with them yet.
        case needMoreBytes
        case preface(Preface)
        /// The bytes are not a preface; the error says what was seen.
        case invalid(ProtocolError)
    }

    /// Reads a preface from the front of `buffer`, consuming 12 bytes when one is there.
    ///
    /// Wrong magic is reported as soon as the first wrong byte arrives, so a peer speaking another
    /// protocol is told at once instead of waiting for 12 bytes.
    public static func parse(_ buffer: inout ByteBuffer) -> ParseResult {
        let available = min(buffer.readableBytes, size)
        let seen = buffer.getBytes(at: buffer.readerIndex, length: available) ?? []
        for (i, byte) in seen.prefix(magic.count).enumerated() where byte != magic[i] {
            return .invalid(ProtocolError(.badPreface, Self.describeWrongPreface(seen)))
        }
        guard available == size else { return .needMoreBytes }
        buffer.moveReaderIndex(forwardBy: size)
        let version = UInt16(seen[8]) << 8 | UInt16(seen[9])
        guard seen[10] == 0, seen[11] == 0 else {
            return .invalid(ProtocolError(.protocolError, "the preface's reserved bytes must be zero"))
        }
        return .preface(Preface(version: version))
    }

    static func describeWrongPreface(_ seen: [UInt8]) -> String {
        let hex = seen.map { String($0, radix: 16, uppercase: true) }.map { $0.count == 1 ? "0" + $0 : $0 }
        var guess = ""
        if seen.first == 0x16 {
            guess = " (a TLS handshake: this port does not use TLS, or the client should not)"
        } else if let first = seen.first, first >= 0x41, first <= 0x5A {
            guess = " (looks like HTTP)"
        }
        return "expected the Mail Sync protocol preface 8E 4D 53 59 4E 43 0D 0A, got "
            + hex.joined(separator: " ") + guess + "; see docs/protocol.md"
    }
}
