import MailSyncWire
import NIOCore
import Testing

/// Every rule the decoder enforces, just inside and just outside the limit.
@Suite struct LimitTests {
    // MARK: Frame size

    @Test(arguments: [ConnectionSettings.minFrameSize, ConnectionSettings.defaults.maxFrameSize])
    func frameOfExactlyMaxFrameSizeIsAccepted(maxFrameSize: UInt32) throws {
        let payload = ByteBuffer(repeating: 0xAB, count: Int(maxFrameSize))
        var buffer = encode(.message(streamID: 1, flags: [], bytes: payload))
        let frames = try decodeAll(&buffer, maxFrameSize: maxFrameSize)
        #expect(frames == [.message(streamID: 1, flags: [], bytes: payload)])
    }

    /// Rejected from the 12-byte header alone: no payload byte has arrived.
    @Test(arguments: [
        ConnectionSettings.minFrameSize, ConnectionSettings.defaults.maxFrameSize, ConnectionSettings.maxFrameSizeLimit,
    ])
    func frameOneOverMaxFrameSizeIsRejectedFromTheHeader(maxFrameSize: UInt32) {
        var header = RawFrame(.message, streamID: 1)
        header.length = maxFrameSize + 1
        let error = decodeError(header.bytes, maxFrameSize: maxFrameSize)
        #expect(error?.code == .frameSizeError)
        #expect(header.bytes.readableBytes == FrameHeader.size)
    }

    /// The largest length a header can carry is refused at once, not waited for.
    @Test func hugeLengthIsRejectedFromTheHeader() {
        var header = RawFrame(.callStart, streamID: 1)
        header.length = UInt32.max
        #expect(decodeError(header.bytes)?.code == .frameSizeError)
    }

    @Test func aPartialHeaderNeedsMoreBytes() throws {
        let whole = encode(.endStream(streamID: 1))
        for count in 0..<FrameHeader.size {
            var partial = whole.getSlice(at: 0, length: count)!
            var decoder = FrameDecoder()
            #expect(try decoder.next(from: &partial) == nil)
            #expect(partial.readableBytes == count)
        }
    }

    // MARK: Header bits

    @Test(arguments: [UInt16(0x0001), 0x0100, 0x8000, 0xFFFF])
    func reservedHeaderBitsAreRejected(reserved: UInt16) {
        var frame = RawFrame(.endStream, streamID: 1)
        frame.reserved = reserved
        #expect(decodeError(frame.bytes)?.code == .protocolError)
    }

    @Test func reservedStreamIDBitIsRejected() {
        var frame = RawFrame(.windowUpdate, streamID: 0x8000_0001) { $0.writeInteger(UInt32(1)) }
        #expect(decodeError(frame.bytes)?.code == .protocolError)
        // Checked from the header alone, like the length.
        frame.payload.clear()
        frame.length = 4
        #expect(decodeError(frame.bytes)?.code == .protocolError)
    }

    @Test func largestStreamIDIsAccepted() throws {
        var buffer = encode(.endStream(streamID: 0x7FFF_FFFF))
        #expect(try decodeAll(&buffer) == [.endStream(streamID: 0x7FFF_FFFF)])
    }

    @Test(arguments: [UInt8(0x00), 0x0A, 0x0B, 0x7F, 0xFF])
    func unknownFrameTypeIsRejected(type: UInt8) {
        var frame = RawFrame(.endStream, streamID: 1)
        frame.type = type
        let error = decodeError(frame.bytes)
        #expect(error?.code == .protocolError)
        #expect(error?.message.contains("unknown frame") == true)
    }

    // MARK: Flags

    /// A valid frame of each type, and the flags it may carry.
    static let flagCases: [(frame: Frame, allowed: UInt8)] = [
        (.callStart(streamID: 1, CallStart(method: "a.B/C")), 0),
        (.message(streamID: 1, flags: [], bytes: ByteBuffer(bytes: [1, 2])), 0x03),
        (.endStream(streamID: 1), 0),
        (.status(streamID: 1, StatusPayload(code: 0, message: "")), 0),
        (.cancel(streamID: 1, CancelPayload(code: 1, reason: "")), 0),
        (.settingsAck, 0x01),
        (.ping(ack: false, data: 7), 0x01),
        (.goAway(GoAway(lastStreamID: 0, code: .noError, message: "")), 0),
        (.windowUpdate(streamID: 1, increment: 1), 0),
    ]

    @Test(arguments: flagCases.indices)
    func undefinedFlagsAreRejected(index: Int) {
        let (frame, allowed) = Self.flagCases[index]
        for bit in (0..<8).map({ UInt8(1) << $0 }) where allowed & bit == 0 {
            var bytes = encode(frame)
            bytes.setInteger(bytes.getInteger(at: 5, as: UInt8.self)! | bit, at: 5)
            let error = decodeError(bytes)
            #expect(error?.code == .protocolError, "\(frame) with flag 0x\(String(bit, radix: 16))")
            #expect(error?.message.contains("undefined flags") == true)
        }
    }

    @Test func definedFlagsAreAccepted() throws {
        let frames: [Frame] = [
            .message(streamID: 1, flags: [.compressed], bytes: ByteBuffer(bytes: [1])),
            .message(streamID: 1, flags: [.more], bytes: ByteBuffer(bytes: [1])),
            .message(streamID: 1, flags: [.compressed, .more], bytes: ByteBuffer()),
            .settingsAck,
            .ping(ack: true, data: 1),
        ]
        for frame in frames {
            var buffer = encode(frame)
            #expect(try decodeAll(&buffer) == [frame])
        }
    }

    @Test func settingsAckMustBeEmpty() {
        let frame = RawFrame(.settings, flags: 0x01, streamID: 0) { $0.writeMultipleIntegers(UInt16(1), UInt32(16_384)) }
        #expect(decodeError(frame.bytes)?.code == .frameSizeError)
    }

    // MARK: Stream 0

    static let streamFrames: [Frame] = [
        .callStart(streamID: 0, CallStart(method: "a.B/C")),
        .message(streamID: 0, flags: [], bytes: ByteBuffer()),
        .endStream(streamID: 0),
        .status(streamID: 0, StatusPayload(code: 0, message: "")),
        .cancel(streamID: 0, CancelPayload(code: 1, reason: "")),
    ]

    @Test(arguments: streamFrames.indices)
    func streamFramesOnStreamZeroAreRejected(index: Int) {
        let error = decodeError(encode(Self.streamFrames[index]))
        #expect(error?.code == .protocolError)
        #expect(error?.message.contains("stream 0") == true)
    }

    static let connectionFrames: [Frame] = [
        .settings(.defaults), .settingsAck, .ping(ack: false, data: 1), .ping(ack: true, data: 1),
        .goAway(GoAway(lastStreamID: 0, code: .noError, message: "")),
    ]

    @Test(arguments: connectionFrames.indices)
    func connectionFramesOnAStreamAreRejected(index: Int) {
        var bytes = encode(Self.connectionFrames[index])
        bytes.setInteger(UInt32(1), at: 8)
        let error = decodeError(bytes)
        #expect(error?.code == .protocolError)
        #expect(error?.message.contains("belongs on stream 0") == true)
    }

    @Test(arguments: [UInt32(0), 1, 2, 0x7FFF_FFFF])
    func windowUpdateIsValidOnAnyStream(streamID: UInt32) throws {
        var buffer = encode(.windowUpdate(streamID: streamID, increment: 10))
        #expect(try decodeAll(&buffer) == [.windowUpdate(streamID: streamID, increment: 10)])
    }

    // MARK: Fixed payload sizes

    @Test(arguments: [
        (FrameType.ping, 0, 0), (.ping, 0, 7), (.ping, 0, 9), (.ping, 0, 16),
        (.windowUpdate, 1, 0), (.windowUpdate, 1, 3), (.windowUpdate, 1, 5), (.windowUpdate, 0, 8),
        (.endStream, 1, 1), (.endStream, 1, 4),
    ] as [(FrameType, UInt32, Int)])
    func wrongFixedPayloadSizeIsAFrameSizeError(type: FrameType, streamID: UInt32, size: Int) {
        let frame = RawFrame(type, streamID: streamID) { $0.writeRepeatingByte(1, count: size) }
        #expect(decodeError(frame.bytes)?.code == .frameSizeError)
    }

    // MARK: WINDOW_UPDATE

    @Test(arguments: [UInt32(0), 0x8000_0000, 0xFFFF_FFFF])
    func windowIncrementOutOfRangeIsAFlowControlError(increment: UInt32) {
        let frame = RawFrame(.windowUpdate, streamID: 1) { $0.writeInteger(increment) }
        #expect(decodeError(frame.bytes)?.code == .flowControlError)
    }

    @Test(arguments: [UInt32(1), 0x7FFF_FFFF])
    func windowIncrementAtTheBoundsIsAccepted(increment: UInt32) throws {
        var buffer = encode(.windowUpdate(streamID: 0, increment: increment))
        #expect(try decodeAll(&buffer) == [.windowUpdate(streamID: 0, increment: increment)])
    }

    // MARK: SETTINGS

    static func settingsFrame(_ entries: [(UInt16, UInt32)], extra: Int = 0) -> ByteBuffer {
        RawFrame(.settings, streamID: 0) { payload in
            for (id, value) in entries { payload.writeMultipleIntegers(id, value) }
            payload.writeRepeatingByte(0, count: extra)
        }.bytes
    }

    @Test(arguments: [1, 5, 7, 11])
    func settingsNotAMultipleOfSixIsAFrameSizeError(extra: Int) {
        #expect(decodeError(Self.settingsFrame([(1, 16_384)], extra: extra))?.code == .frameSizeError)
    }

    @Test func emptySettingsMeansDefaults() throws {
        var buffer = Self.settingsFrame([])
        #expect(try decodeAll(&buffer) == [.settings(.defaults)])
    }

    @Test(arguments: [UInt32(0), 16_383, 16_777_216, UInt32.max])
    func maxFrameSizeOutOfRangeIsRejected(value: UInt32) {
        #expect(decodeError(Self.settingsFrame([(1, value)]))?.code == .protocolError)
    }

    @Test(arguments: [UInt32(16_384), 65_536, 16_777_215])
    func maxFrameSizeInRangeIsAccepted(value: UInt32) throws {
        var buffer = Self.settingsFrame([(1, value)])
        var expected = ConnectionSettings.defaults
        expected.maxFrameSize = value
        #expect(try decodeAll(&buffer) == [.settings(expected)])
    }

    @Test(arguments: [UInt16(4), 5])
    func windowOver2To31Minus1IsAFlowControlError(id: UInt16) throws {
        #expect(decodeError(Self.settingsFrame([(id, 0x8000_0000)]))?.code == .flowControlError)
        #expect(decodeError(Self.settingsFrame([(id, 0xFFFF_FFFF)]))?.code == .flowControlError)
        var buffer = Self.settingsFrame([(id, 0x7FFF_FFFF)])
        guard case .settings(let settings) = try #require(try decodeAll(&buffer).first) else {
            Issue.record("not SETTINGS")
            return
        }
        #expect((id == 4 ? settings.initialStreamWindow : settings.initialConnectionWindow) == 0x7FFF_FFFF)
    }

    @Test func unknownSettingIDsAreIgnored() throws {
        var buffer = Self.settingsFrame([(0, 1), (7, 2), (0x00FF, 3), (0xFFFF, 4), (3, 42)])
        var expected = ConnectionSettings.defaults
        expected.maxConcurrentCalls = 42
        #expect(try decodeAll(&buffer) == [.settings(expected)])
    }

    @Test func aRepeatedSettingKeepsTheLastValue() throws {
        var buffer = Self.settingsFrame([(2, 1000), (2, 2000)])
        var expected = ConnectionSettings.defaults
        expected.maxMessageSize = 2000
        #expect(try decodeAll(&buffer) == [.settings(expected)])
    }

    @Test func everySettingRoundTrips() throws {
        let settings = ConnectionSettings(
            maxFrameSize: 20_000, maxMessageSize: 1, maxConcurrentCalls: 0, initialStreamWindow: 0,
            initialConnectionWindow: 0x7FFF_FFFF, maxMetadataSize: UInt32.max)
        var buffer = encode(.settings(settings))
        #expect(buffer.readableBytes == FrameHeader.size + 36)
        #expect(try decodeAll(&buffer) == [.settings(settings)])
    }

    // MARK: CALL_START

    static func callStart(method: [UInt8], metadata: (inout ByteBuffer) -> Void = { $0.writeInteger(UInt16(0)) }) -> ByteBuffer {
        RawFrame(.callStart, streamID: 1) { payload in
            payload.writeInteger(UInt64(0))
            payload.writeString16(method)
            metadata(&payload)
        }.bytes
    }

    @Test(arguments: [0, 513, 1000])
    func methodLengthOutOfRangeIsRejected(length: Int) {
        #expect(decodeError(Self.callStart(method: Array(repeating: 0x61, count: length)))?.code == .protocolError)
    }

    @Test(arguments: [1, 2, 511, 512])
    func methodLengthInRangeIsAccepted(length: Int) throws {
        var buffer = Self.callStart(method: Array(repeating: 0x61, count: length))
        let frames = try decodeAll(&buffer)
        #expect(frames == [.callStart(streamID: 1, CallStart(method: String(repeating: "a", count: length)))])
    }

    /// The limit counts UTF-8 bytes, not characters.
    @Test func methodLimitCountsBytes() throws {
        var ok = encode(.callStart(streamID: 1, CallStart(method: String(repeating: "é", count: 256))))
        #expect(try decodeAll(&ok).count == 1)
        let over = encode(.callStart(streamID: 1, CallStart(method: "a" + String(repeating: "é", count: 256))))
        #expect(decodeError(over)?.code == .protocolError)
    }

    @Test(arguments: [1, 2, 3, 10, 30])
    func truncatedCallStartIsRejected(cut: Int) {
        var bytes = encode(.callStart(streamID: 1, CallStart(
            method: "test.v1.Echo/Echo", timeoutMicroseconds: 5, metadata: [(key: "k", value: "v")])))
        let payloadLength = bytes.readableBytes - FrameHeader.size
        bytes.setInteger(UInt32(payloadLength - cut), at: 0)
        bytes.moveWriterIndex(to: bytes.writerIndex - cut)
        #expect(decodeError(bytes)?.code == .protocolError)
    }

    // MARK: Metadata

    /// Cap'n Proto CVE-2015-2312: a count is bounded by the bytes that remain (each pair needs at
    /// least 4), before anything is reserved for it.
    @Test(arguments: [(UInt16(1), 3), (2, 7), (1000, 3999), (UInt16.max, 0), (UInt16.max, 100)] as [(UInt16, Int)])
    func metadataCountLargerThanTheBytesIsRejected(count: UInt16, remaining: Int) {
        let bytes = Self.callStart(method: Array("a.B/C".utf8)) { payload in
            payload.writeInteger(count)
            payload.writeRepeatingByte(0x01, count: remaining)
        }
        let error = decodeError(bytes)
        #expect(error?.code == .protocolError)
        #expect(error?.message.contains("cannot fit") == true)
    }

    /// The bound is exact: `count` pairs of the smallest size (1-byte key, empty value) fit.
    @Test(arguments: [1, 100, 16_000])
    func smallestPairsFillTheBytesExactly(count: Int) throws {
        let pairs = Array(repeating: ([UInt8(0x61)], [UInt8]()), count: count)
        var buffer = Self.callStart(method: Array("a.B/C".utf8)) { $0.writeMetadata(pairs) }
        let frames = try decodeAll(&buffer, maxFrameSize: ConnectionSettings.maxFrameSizeLimit)
        guard case .callStart(_, let start) = try #require(frames.first) else {
            Issue.record("not CALL_START")
            return
        }
        #expect(start.metadata.count == count)
    }

    @Test(arguments: ["Authorization", "a b", "", String(repeating: "k", count: 129), "ключ", "a/b", "a:b", "a\u{0}"])
    func invalidMetadataKeyIsRejected(key: String) {
        let bytes = Self.callStart(method: Array("a.B/C".utf8)) { $0.writeMetadata([(Array(key.utf8), Array("v".utf8))]) }
        #expect(decodeError(bytes)?.code == .protocolError)
    }

    @Test(arguments: ["a", "request-id", "x_y.z-0", "0", String(repeating: "k", count: 128)])
    func validMetadataKeyIsAccepted(key: String) throws {
        var buffer = encode(.callStart(streamID: 1, CallStart(method: "a.B/C", metadata: [(key: key, value: "v")])))
        #expect(try decodeAll(&buffer).count == 1)
    }

    @Test func metadataKeysAreCheckedInStatusToo() {
        let bytes = RawFrame(.status, streamID: 1) { payload in
            payload.writeInteger(UInt16(0))
            payload.writeString32([])
            payload.writeString32([])
            payload.writeMetadata([(Array("Bad".utf8), [])])
        }.bytes
        #expect(decodeError(bytes)?.code == .protocolError)
    }

    // MARK: UTF-8

    static let invalidUTF8: [[UInt8]] = [[0xFF], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0x61, 0x80]]

    @Test(arguments: invalidUTF8)
    func invalidUTF8InEveryStringIsRejected(bad: [UInt8]) {
        let cases: [(String, ByteBuffer)] = [
            ("method", Self.callStart(method: Array("a.B/".utf8) + bad)),
            ("metadata value", Self.callStart(method: Array("a.B/C".utf8)) { $0.writeMetadata([(Array("k".utf8), bad)]) }),
            ("metadata key", Self.callStart(method: Array("a.B/C".utf8)) { $0.writeMetadata([(bad, Array("v".utf8))]) }),
            ("status message", RawFrame(.status, streamID: 1) { payload in
                payload.writeInteger(UInt16(5))
                payload.writeString32(bad)
                payload.writeString32([])
                payload.writeInteger(UInt16(0))
            }.bytes),
            ("cancel reason", RawFrame(.cancel, streamID: 1) { payload in
                payload.writeInteger(UInt16(1))
                payload.writeString16(bad)
            }.bytes),
            ("goaway message", RawFrame(.goAway, streamID: 0) { payload in
                payload.writeMultipleIntegers(UInt32(0), UInt32(0))
                payload.writeString32(bad)
            }.bytes),
        ]
        for (field, bytes) in cases {
            #expect(decodeError(bytes)?.code == .protocolError, "\(field)")
        }
    }

    /// STATUS details are bytes, not text: anything goes.
    @Test func statusDetailsAreNotUTF8Checked() throws {
        let status = StatusPayload(code: 3, message: "bad", details: [0xFF, 0x00, 0xC3])
        var buffer = encode(.status(streamID: 1, status))
        #expect(try decodeAll(&buffer) == [.status(streamID: 1, status)])
    }

    // MARK: Trailing and missing bytes

    static let variableFrames: [Frame] = [
        .callStart(streamID: 1, CallStart(method: "a.B/C", metadata: [(key: "k", value: "v")])),
        .status(streamID: 1, StatusPayload(code: 5, message: "gone", details: [1], metadata: [(key: "k", value: "v")])),
        .cancel(streamID: 1, CancelPayload(code: 1, reason: "why")),
        .goAway(GoAway(lastStreamID: 3, code: .noError, message: "bye")),
    ]

    @Test(arguments: variableFrames.indices)
    func trailingBytesAfterTheLastFieldAreRejected(index: Int) {
        var bytes = encode(Self.variableFrames[index])
        bytes.setInteger(bytes.getInteger(at: 0, as: UInt32.self)! + 1, at: 0)
        bytes.writeInteger(UInt8(0))
        let error = decodeError(bytes)
        #expect(error?.code == .protocolError)
        #expect(error?.message.contains("after its last field") == true)
    }

    @Test(arguments: variableFrames.indices)
    func everyTruncationIsRejected(index: Int) {
        let whole = encode(Self.variableFrames[index])
        let payloadLength = whole.readableBytes - FrameHeader.size
        for cut in 1...payloadLength {
            var bytes = whole.getSlice(at: 0, length: whole.readableBytes - cut)!
            bytes.setInteger(UInt32(payloadLength - cut), at: 0)
            #expect(decodeError(bytes)?.code == .protocolError, "cut \(cut)")
        }
    }

    @Test func statusDetailsLengthBeyondThePayloadIsRejected() {
        let bytes = RawFrame(.status, streamID: 1) { payload in
            payload.writeInteger(UInt16(0))
            payload.writeString32([])
            payload.writeInteger(UInt32.max)
            payload.writeInteger(UInt16(0))
        }.bytes
        let error = decodeError(bytes)
        #expect(error?.code == .protocolError)
        #expect(error?.message.contains("exceeds") == true)
    }

    // MARK: Preface

    static var magicAndVersion: [UInt8] { Preface.magic + [0x00, 0x01, 0x00, 0x00] }

    /// A wrong byte is reported as soon as it arrives, wherever it is in the magic.
    @Test(arguments: 0..<8)
    func wrongMagicIsReportedAtTheFirstWrongByte(position: Int) {
        var bytes = Array(Preface.magic.prefix(position))
        bytes.append(Preface.magic[position] ^ 0x20)
        var buffer = ByteBuffer(bytes: bytes)
        guard case .invalid(let error) = Preface.parse(&buffer) else {
            Issue.record("accepted a wrong byte at \(position)")
            return
        }
        #expect(error.code == .badPreface)
        #expect(error.message.contains(Hex.string(bytes).uppercased()))
        #expect(buffer.readableBytes == bytes.count, "nothing is consumed")
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\n", "looks like HTTP"),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "looks like HTTP"),
        ("POST /x HTTP/1.1\r\n", "looks like HTTP"),
    ])
    func httpIsRecognised(text: String, hint: String) {
        var buffer = ByteBuffer(string: text)
        guard case .invalid(let error) = Preface.parse(&buffer) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(error.code == .badPreface)
        #expect(error.message.contains(hint))
    }

    @Test func tlsIsRecognisedFromItsFirstByte() {
        for bytes in [[UInt8(0x16)], [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03, 0x00]] {
            var buffer = ByteBuffer(bytes: bytes)
            guard case .invalid(let error) = Preface.parse(&buffer) else {
                Issue.record("accepted TLS")
                return
            }
            #expect(error.code == .badPreface)
            #expect(error.message.contains("TLS"))
        }
    }

    @Test(arguments: [[UInt8(0x00), 0x01], [0x01, 0x00], [0x80, 0x00], [0xFF, 0xFF]])
    func reservedPrefaceBytesMustBeZero(reserved: [UInt8]) {
        var buffer = ByteBuffer(bytes: Preface.magic + [0x00, 0x01] + reserved)
        guard case .invalid(let error) = Preface.parse(&buffer) else {
            Issue.record("accepted reserved bytes \(reserved)")
            return
        }
        #expect(error.code == .protocolError)
    }

    /// Any version parses; whether it is spoken is the connection's decision (GOAWAY
    /// `unsupportedVersion`).
    @Test(arguments: [UInt16(0), 1, 2, 0xFFFF])
    func everyVersionParses(version: UInt16) {
        var buffer = ByteBuffer()
        Preface(version: version).write(to: &buffer)
        #expect(Preface.parse(&buffer) == .preface(Preface(version: version)))
        #expect(buffer.readableBytes == 0)
    }

    @Test func prefaceBytes() {
        var buffer = ByteBuffer()
        Preface().write(to: &buffer)
        #expect(Array(buffer.readableBytesView) == Self.magicAndVersion)
        #expect(Preface.size == 12)
    }
}
