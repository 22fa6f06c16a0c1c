import Foundation
import MailSyncWire
import NIOCore
import Testing

/// The `FuzzFrameDecoder` target's inputs, replayed: every seed (`Fuzz/Corpus/FuzzFrameDecoder/`)
/// and kept crasher (`Fuzz/Crashers/FuzzFrameDecoder/`) through the target's checks, and byte by
/// byte besides (docs/fuzzing.md). The checks repeat `Fuzz/Sources/FuzzFrameDecoder`: change both.
@Suite("Fuzz regressions: frame decoder")
struct FrameDecoderFuzzRegressionTests {
    @Test("FuzzFrameDecoder: every input decodes the same whole, in the fuzzer's two pieces and byte by byte")
    func frames() throws {
        let inputs = try fuzzInputs("FuzzFrameDecoder")
        #expect(inputs.count >= 10)
        var frames = 0
        for (name, input) in inputs {
            guard let control = input.first else { continue }
            let stream = Array(input.dropFirst())
            let split = Int(control & 0x3F) * stream.count / 0x3F
            let whole = decodeFrames([stream[...]], control: control)
            #expect(decodeFrames([stream[..<split], stream[split...]], control: control) == whole, "\(name): two pieces")
            #expect(decodeFrames(stream.map { [$0][...] }, control: control) == whole, "\(name): byte by byte")
            #expect(whole.outcomes.count <= stream.count / 12 + 2, "\(name): more outcomes than headers")
            frames += whole.outcomes.filter { if case .frame = $0 { true } else { false } }.count
        }
        // The seeds are mostly well-formed traffic, not only errors.
        #expect(frames >= 15)
    }

    /// What a connection reads: the preface (control bit 0x80), then frames until more bytes are
    /// needed or the decoder throws. Control bit 0x40: a 64-byte maximum frame size.
    struct Decoded: Equatable {
        enum Outcome: Equatable {
            case preface(UInt16)
            case badPreface(ErrorCode)
            case frame(Frame)
            case error(ProtocolError)
        }
        var outcomes: [Outcome] = []
        var unread = 0
    }

    private func decodeFrames(_ pieces: [ArraySlice<UInt8>], control: UInt8) -> Decoded {
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
}

/// The files of `Fuzz/Corpus/<target>/` and `Fuzz/Crashers/<target>/` (which may not exist), by name.
private func fuzzInputs(_ target: String, file: String = #filePath) throws -> [(name: String, bytes: [UInt8])] {
    let root = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var inputs: [(name: String, bytes: [UInt8])] = []
    for folder in ["Corpus", "Crashers"] {
        let directory = root.appendingPathComponent("Fuzz/\(folder)/\(target)")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { continue }
        for name in names.sorted() where !name.hasPrefix(".") {
            inputs.append(("\(folder)/\(target)/\(name)", Array(try Data(contentsOf: directory.appendingPathComponent(name)))))
        }
    }
    return inputs
}
