import MailSyncWire
import NIOCore

/// `Preface.parse` and `FrameDecoder` on arbitrary bytes: a control byte, then the stream. Fed
/// whole, and in two pieces split where the control byte's low 6 bits say, the decoder must give
/// the same frames, the same error and leave the same bytes unread. Control bit 0x80: the stream
/// starts with a preface (as a server reads a connection); bit 0x40: a 64-byte maximum frame size
/// so `frameSizeError` is reached with short inputs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let control = input.first else { return 0 }
    let stream = Array(input.dropFirst())
    let split = Int(control & 0x3F) * stream.count / 0x3F
    let whole = decodeFrames([stream[...]], control: control)
    let pieces = decodeFrames([stream[..<split], stream[split...]], control: control)
    guard whole == pieces else {
        fatalError("whole: \(whole)\nin two pieces at \(split): \(pieces)")
    }
    guard whole.outcomes.count <= stream.count / 12 + 2 else {
        fatalError("more outcomes (\(whole.outcomes.count)) than 12-byte headers in \(stream.count) bytes")
    }
    return 0
}

/// What a connection reads: the preface (when asked), then frames until the decoder needs more
/// bytes than all the pieces hold or throws (after which a connection closes). `unread`: the bytes
/// left when it needs more (0 after an error, whose timing depends on the pieces).
struct Decoded: Equatable {
    enum Outcome: Equatable {
        case preface(UInt16)
        /// The code only: the message quotes the bytes seen so far, which depend on the pieces.
        case badPreface(ErrorCode)
        case frame(Frame)
        case error(ProtocolError)
    }
    var outcomes: [Outcome] = []
    var unread = 0
}

func decodeFrames(_ pieces: [ArraySlice<UInt8>], control: UInt8) -> Decoded {
    var decoder = FrameDecoder(maxFrameSize: control & 0x40 != 0 ? 64 : ConnectionSettings.defaults.maxFrameSize)
    var buffer = ByteBuffer()
    var result = Decoded()
    var wantPreface = control & 0x80 != 0
    pieces: for piece in pieces {
        buffer.writeBytes(piece)
        if wantPreface {
            switch Preface.parse(&buffer) {
            case .needMoreBytes: continue pieces
            case .preface(let preface):
                result.outcomes.append(.preface(preface.version))
                wantPreface = false
            case .invalid(let error):
                result.outcomes.append(.badPreface(error.code))
                break pieces
            }
        }
        do throws(ProtocolError) {
            while let frame = try decoder.next(from: &buffer) {
                result.outcomes.append(.frame(frame))
            }
        } catch {
            result.outcomes.append(.error(error))
            break pieces
        }
    }
    switch result.outcomes.last {
    case .error, .badPreface: result.unread = 0
    default: result.unread = buffer.readableBytes
    }
    return result
}
