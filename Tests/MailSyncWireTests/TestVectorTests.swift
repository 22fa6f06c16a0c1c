import Foundation
import MailSyncWire
import NIOCore
import Testing

/// The hex dumps in docs/protocol.md ("Test vectors"), checked both ways: the encoder writes exactly
/// those bytes, and the decoder reads them back as the same frames.
///
/// The hex is read out of the document (the fenced block after each `<!-- vector: name -->` marker,
/// `#` starting a comment), so the specification and these tests cannot drift apart. To print the
/// encoder's bytes for a new vector, run with `WIRE_PRINT_VECTORS=1`.
@Suite struct TestVectorTests {
    /// One vector: what the bytes mean. A preface, if present, comes first.
    struct Vector: CustomTestStringConvertible, Sendable {
        var name: String
        var preface: Preface?
        var frames: [Frame]
        var testDescription: String { name }
    }

    /// EchoRequest{text: "hi"}: field 1 (string) → tag 0x0a, length 2, "hi" (Schema/README.md).
    static let echoHi: [UInt8] = [0x0A, 0x02, 0x68, 0x69]
    /// EchoRequest{text: "hello, world"}.
    static let echoHelloWorld: [UInt8] = [0x0A, 0x0C] + Array("hello, world".utf8)

    static let vectors: [Vector] = [
        Vector(name: "client-preface", preface: Preface(), frames: []),
        Vector(name: "settings-default", frames: [.settings(.defaults)]),
        Vector(name: "call-start", frames: [
            .callStart(streamID: 1, CallStart(
                method: "test.v1.Echo/Echo", timeoutMicroseconds: 1_500_000,
                metadata: [(key: "authorization", value: "admin-key"), (key: "request-id", value: "r1")])),
        ]),
        Vector(name: "message", frames: [.message(streamID: 1, flags: [], bytes: ByteBuffer(bytes: echoHi))]),
        Vector(name: "end-stream", frames: [.endStream(streamID: 1)]),
        Vector(name: "status-ok", frames: [.status(streamID: 1, StatusPayload(code: 0, message: ""))]),
        Vector(name: "status-not-found", frames: [
            .status(streamID: 3, StatusPayload(code: 5, message: "no mailbox with id 42")),
        ]),
        Vector(name: "cancel", frames: [
            .cancel(streamID: 3, CancelPayload(code: 1, reason: "the client cancelled the call")),
        ]),
        Vector(name: "ping", frames: [.ping(ack: false, data: 0x0102_0304_0506_0708)]),
        Vector(name: "ping-ack", frames: [.ping(ack: true, data: 0x0102_0304_0506_0708)]),
        Vector(name: "goaway", frames: [
            .goAway(GoAway(lastStreamID: 5, code: .noError, message: "the server is shutting down")),
        ]),
        Vector(name: "goaway-unsupported-version", preface: Preface(), frames: [
            .goAway(GoAway(
                lastStreamID: 0, code: .unsupportedVersion,
                message: "this server speaks protocol version 1; the client offered version 2")),
        ]),
        Vector(name: "window-update-connection", frames: [.windowUpdate(streamID: 0, increment: 524_288)]),
        Vector(name: "window-update-stream", frames: [.windowUpdate(streamID: 1, increment: 131_072)]),
        Vector(name: "fragmented-message", frames: [
            .message(streamID: 1, flags: .more, bytes: ByteBuffer(bytes: echoHelloWorld[0..<8])),
            .message(streamID: 1, flags: [], bytes: ByteBuffer(bytes: echoHelloWorld[8...])),
        ]),
    ]

    static func encode(_ vector: Vector) -> ByteBuffer {
        var buffer = ByteBuffer()
        vector.preface?.write(to: &buffer)
        for frame in vector.frames { FrameEncoder.write(frame, to: &buffer) }
        return buffer
    }

    @Test(arguments: vectors)
    func encoderWritesTheDocumentedBytes(_ vector: Vector) throws {
        let encoded = Self.encode(vector)
        if ProcessInfo.processInfo.environment["WIRE_PRINT_VECTORS"] != nil {
            print("vector \(vector.name):\n\(Hex.string(encoded))")
        }
        let documented = try #require(try DocumentedVectors.shared[vector.name], "docs/protocol.md has no vector '\(vector.name)'")
        #expect(Hex.string(encoded) == Hex.string(documented))
    }

    @Test(arguments: vectors)
    func decoderReadsTheDocumentedBytes(_ vector: Vector) throws {
        var buffer = ByteBuffer(bytes: try #require(try DocumentedVectors.shared[vector.name]))
        if let preface = vector.preface {
            #expect(Preface.parse(&buffer) == .preface(preface))
        }
        let frames = try decodeAll(&buffer)
        #expect(frames == vector.frames)
        #expect(buffer.readableBytes == 0)
    }

    @Test func everyDocumentedVectorIsTested() throws {
        let documented = Set(try DocumentedVectors.shared.keys)
        let tested = Set(Self.vectors.map(\.name))
        #expect(documented == tested)
        #expect(documented.count == Self.vectors.count, "a vector name is used twice")
    }

    /// `writeMessage` splits a message the way the fragmented vector shows.
    @Test func writeMessageProducesTheFragmentedVector() throws {
        var buffer = ByteBuffer()
        FrameEncoder.writeMessage(
            ByteBuffer(bytes: Self.echoHelloWorld), compressed: false, streamID: 1, maxFrameSize: 8, to: &buffer)
        let documented = try #require(try DocumentedVectors.shared["fragmented-message"])
        #expect(Hex.string(buffer) == Hex.string(documented))
    }
}

/// The `<!-- vector: name -->` blocks of docs/protocol.md, as bytes.
enum DocumentedVectors {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let shared = Result { try load() }

    static var documentURL: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // MailSyncWireTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // repository root
            .appendingPathComponent("docs/protocol.md")
    }

    static func load() throws -> [String: [UInt8]] {
        let text = try String(contentsOf: documentURL, encoding: .utf8)
        var vectors: [String: [UInt8]] = [:]
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.popFirst() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("<!-- vector:"), trimmed.hasSuffix("-->") else { continue }
            let name = trimmed.dropFirst("<!-- vector:".count).dropLast("-->".count).trimmingCharacters(in: .whitespaces)
            guard vectors[name] == nil else { throw Failure(description: "vector '\(name)' appears twice") }
            guard let fence = lines.popFirst(), fence.hasPrefix("```") else {
                throw Failure(description: "vector '\(name)': the marker must be followed by a ``` block")
            }
            var hex = ""
            while let body = lines.popFirst(), !body.hasPrefix("```") {
                let data = body.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                guard data.allSatisfy({ $0.isHexDigit || $0 == " " }) else {
                    throw Failure(description: "vector '\(name)': not hex: \(body)")
                }
                hex += data
            }
            vectors[name] = Hex.bytes(hex)
        }
        return vectors
    }
}

extension Result where Success == [String: [UInt8]], Failure == any Error {
    subscript(name: String) -> [UInt8]? {
        get throws { try get()[name] }
    }

    var keys: Dictionary<String, [UInt8]>.Keys {
        get throws { try get().keys }
    }
}
