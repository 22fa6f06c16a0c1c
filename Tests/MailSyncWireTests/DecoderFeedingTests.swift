import MailSyncWire
import NIOCore
import Testing

/// The decoder must give the same frames however the bytes are cut (NIO's
/// `ByteToMessageDecoderVerifier` idea): whole frames, byte by byte, random chunks, all at once.
@Suite struct DecoderFeedingTests {
    static let seeds: [UInt64] = [1, 2, 3, 0xC0FFEE, 0xDEAD_BEEF]

    /// ~50 valid frames covering every type and flag, with random sizes.
    static func randomFrames(seed: UInt64, count: Int = 50) -> [Frame] {
        var rng = SplitMix64(seed: seed)
        var frames: [Frame] = []
        // Every kind at least once, then random kinds.
        var kinds = Array(0..<10)
        while kinds.count < count { kinds.append(Int.random(in: 0..<10, using: &rng)) }
        kinds.shuffle(using: &rng)
        for kind in kinds { frames.append(randomFrame(kind: kind, using: &rng)) }
        return frames
    }

    static func randomFrame(kind: Int, using rng: inout SplitMix64) -> Frame {
        let streamID = UInt32.random(in: 1...0x7FFF_FFFF, using: &rng)
        switch kind {
        case 0:
            let method = randomText(1...80, using: &rng) + "/" + randomText(0...30, using: &rng)
            return .callStart(streamID: streamID, CallStart(
                method: method, timeoutMicroseconds: Bool.random(using: &rng) ? 0 : UInt64.random(in: 1...UInt64.max, using: &rng),
                metadata: randomMetadata(using: &rng)))
        case 1:
            let size = Int.random(in: 0...3000, using: &rng)
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let flags = FrameFlags(rawValue: UInt8.random(in: 0...3, using: &rng))
            return .message(streamID: streamID, flags: flags, bytes: ByteBuffer(bytes: bytes))
        case 2:
            return .endStream(streamID: streamID)
        case 3:
            let details = (0..<Int.random(in: 0...100, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            return .status(streamID: streamID, StatusPayload(
                code: UInt16.random(in: 0...20, using: &rng), message: randomText(0...200, using: &rng),
                details: details, metadata: randomMetadata(using: &rng)))
        case 4:
            return .cancel(streamID: streamID, CancelPayload(
                code: UInt16.random(in: 0...16, using: &rng), reason: randomText(0...100, using: &rng)))
        case 5:
            return .settings(ConnectionSettings(
                maxFrameSize: UInt32.random(in: ConnectionSettings.minFrameSize...ConnectionSettings.maxFrameSizeLimit, using: &rng),
                maxMessageSize: UInt32.random(in: 0...UInt32.max, using: &rng),
                maxConcurrentCalls: UInt32.random(in: 0...UInt32.max, using: &rng),
                initialStreamWindow: UInt32.random(in: 0...ConnectionSettings.maxWindow, using: &rng),
                initialConnectionWindow: UInt32.random(in: 0...ConnectionSettings.maxWindow, using: &rng),
                maxMetadataSize: UInt32.random(in: 0...UInt32.max, using: &rng)))
        case 6:
            return .settingsAck
        case 7:
            return .ping(ack: Bool.random(using: &rng), data: UInt64.random(in: 0...UInt64.max, using: &rng))
        case 8:
            return .goAway(GoAway(
                lastStreamID: UInt32.random(in: 0...0x7FFF_FFFF, using: &rng),
                code: ErrorCode(rawValue: UInt32.random(in: 0...15, using: &rng)), message: randomText(0...120, using: &rng)))
        default:
            return .windowUpdate(
                streamID: Bool.random(using: &rng) ? 0 : streamID,
                increment: UInt32.random(in: 1...ConnectionSettings.maxWindow, using: &rng))
        }
    }

    /// Text with multi-byte characters, so a cut can fall inside one.
    static func randomText(_ length: ClosedRange<Int>, using rng: inout SplitMix64) -> String {
        let alphabet: [Character] = Array("abcxyz.-_/ 0189é€😀")
        return String((0..<Int.random(in: length, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    static func randomMetadata(using rng: inout SplitMix64) -> [(key: String, value: String)] {
        let keyAlphabet: [Character] = Array("abcdefghijklmnopqrstuvwxyz0123456789-_.")
        return (0..<Int.random(in: 0...5, using: &rng)).map { _ in
            let key = String((0..<Int.random(in: 1...128, using: &rng)).map { _ in keyAlphabet.randomElement(using: &rng)! })
            return (key: key, value: randomText(0...60, using: &rng))
        }
    }

    static func encodeAll(_ frames: [Frame]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for frame in frames { FrameEncoder.write(frame, to: &buffer) }
        return buffer
    }

    /// Feeds `bytes` in chunks of the sizes `nextChunk` picks, decoding after each.
    static func feed(_ bytes: ByteBuffer, chunks nextChunk: (Int) -> Int) throws -> [Frame] {
        var decoder = FrameDecoder(maxFrameSize: ConnectionSettings.maxFrameSizeLimit)
        var input = ByteBuffer()
        var source = bytes
        var frames: [Frame] = []
        while source.readableBytes > 0 {
            var chunk = source.readSlice(length: min(nextChunk(source.readableBytes), source.readableBytes))!
            input.writeBuffer(&chunk)
            while true {
                let before = input.readerIndex
                guard let frame = try decoder.next(from: &input) else {
                    // Nothing is consumed until a whole frame is there.
                    #expect(input.readerIndex == before)
                    break
                }
                frames.append(frame)
            }
        }
        #expect(input.readableBytes == 0)
        return frames
    }

    @Test(arguments: seeds)
    func wholeFramesOneAtATime(seed: UInt64) throws {
        for frame in Self.randomFrames(seed: seed) {
            var buffer = encode(frame)
            let decoded = try decodeAll(&buffer, maxFrameSize: ConnectionSettings.maxFrameSizeLimit)
            #expect(decoded == [frame])
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test(arguments: seeds)
    func byteByByte(seed: UInt64) throws {
        let frames = Self.randomFrames(seed: seed)
        #expect(try Self.feed(Self.encodeAll(frames), chunks: { _ in 1 }) == frames)
    }

    @Test(arguments: seeds)
    func randomChunks(seed: UInt64) throws {
        let frames = Self.randomFrames(seed: seed)
        var rng = SplitMix64(seed: seed ^ 0x5EED)
        let decoded = try Self.feed(Self.encodeAll(frames)) { remaining in
            // Mostly small cuts (inside headers and fields), sometimes large ones.
            Bool.random(using: &rng) ? Int.random(in: 1...16, using: &rng) : Int.random(in: 1...4096, using: &rng)
        }
        #expect(decoded == frames)
    }

    @Test(arguments: seeds)
    func allFramesInOneBuffer(seed: UInt64) throws {
        let frames = Self.randomFrames(seed: seed)
        var buffer = Self.encodeAll(frames)
        #expect(try decodeAll(&buffer, maxFrameSize: ConnectionSettings.maxFrameSizeLimit) == frames)
        #expect(buffer.readableBytes == 0)
    }

    /// The generator really covers every frame type.
    @Test func framesCoverEveryType() {
        let frames = Self.randomFrames(seed: 1)
        let types = Set(frames.map { frame -> String in
            switch frame {
            case .callStart: "callStart"
            case .message: "message"
            case .endStream: "endStream"
            case .status: "status"
            case .cancel: "cancel"
            case .settings: "settings"
            case .settingsAck: "settingsAck"
            case .ping: "ping"
            case .goAway: "goAway"
            case .windowUpdate: "windowUpdate"
            }
        })
        #expect(types.count == 10)
        #expect(frames.count == 50)
    }

    // MARK: Preface

    @Test func prefaceByteByByte() {
        var whole = ByteBuffer()
        Preface().write(to: &whole)
        FrameEncoder.write(.settings(.defaults), to: &whole)
        var input = ByteBuffer()
        var result = Preface.ParseResult.needMoreBytes
        for (index, byte) in whole.readableBytesView.prefix(Preface.size).enumerated() {
            input.writeInteger(byte)
            result = Preface.parse(&input)
            if index < Preface.size - 1 {
                #expect(result == .needMoreBytes, "after \(index + 1) bytes")
                #expect(input.readableBytes == index + 1, "nothing is consumed before the whole preface")
            }
        }
        #expect(result == .preface(Preface(version: 1)))
        #expect(input.readableBytes == 0)
    }

    /// A preface and the frames after it in one buffer: the preface takes exactly 12 bytes.
    @Test func prefaceFollowedByFrames() throws {
        let frames = Self.randomFrames(seed: 7, count: 10)
        var buffer = ByteBuffer()
        Preface(version: 1).write(to: &buffer)
        for frame in frames { FrameEncoder.write(frame, to: &buffer) }
        #expect(Preface.parse(&buffer) == .preface(Preface(version: 1)))
        #expect(try decodeAll(&buffer, maxFrameSize: ConnectionSettings.maxFrameSizeLimit) == frames)
    }
}
