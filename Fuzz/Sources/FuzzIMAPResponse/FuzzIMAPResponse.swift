import MailSyncIMAP

/// libFuzzer entry: the input (after its first byte) as bytes from an IMAP server, decoded with
/// `IMAPResponseDecoder` in one piece and, as a reference, with `IMAPResponseFramer` and
/// `IMAPParser` (what the decoder composes) in two pieces.
///
/// The first byte steers: its high bit picks small limits (so the limit errors are reached with
/// short inputs), the next bit a small byte budget (`IMAPByteBudget`, as a command sets), its low
/// 6 bits where the bytes are split for the reference. Checked, besides not trapping: the result
/// and the budget charged do not depend on how the stream was chunked (the framer's contract), and
/// the decoder gives the same responses and errors, then wants more bytes, or after a framing
/// error keeps throwing it (the decoder's contract).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let control = input.first else { return 0 }
    let stream = Array(input.dropFirst())
    let limits = control & 0x80 != 0
        ? IMAPLimits(maxLineLength: 200, maxLiteralSize: 300, maxNestingDepth: 6)
        : IMAPLimits()
    let budget = control & 0x40 != 0 ? IMAPByteBudget(maxBytes: 1500, maxLiteralSize: 200) : nil
    let split = Int(control & 0x3F) * stream.count / 0x3F

    var reference = Reference(limits: limits)
    reference.framer.budget = budget
    reference.feed(stream[..<split])
    if !reference.framingFailed { reference.feed(stream[split...]) }

    var decoder = IMAPResponseDecoder(limits: limits)
    decoder.budget = budget
    decoder.append(stream)
    for (index, expected) in reference.outcomes.enumerated() {
        let outcome = Outcome(&decoder)
        guard outcome == expected else {
            fatalError("outcome \(index) differs (split at \(split) of \(stream.count)): whole \(String(describing: outcome)), in two pieces \(expected)")
        }
    }
    let last = Outcome(&decoder)
    if reference.framingFailed {
        guard last == reference.outcomes.last else { fatalError("after a framing error the decoder gave \(String(describing: last))") }
    } else {
        guard last == nil else { fatalError("the decoder gave \(String(describing: last)) where the reference wants more bytes") }
    }
    if decoder.budget?.used != reference.framer.budget?.used {
        fatalError("budget charged \(String(describing: decoder.budget?.used)) whole, \(String(describing: reference.framer.budget?.used)) in two pieces")
    }
    return 0
}

/// A response, or the code of an error (an error's detail may say where the bytes ran out).
enum Outcome: Equatable {
    case response(IMAPResponse)
    case error(String)

    /// The decoder's next outcome; nil when it wants more bytes.
    init?(_ decoder: inout IMAPResponseDecoder) {
        do {
            guard let response = try decoder.next() else { return nil }
            self = .response(response)
        } catch {
            self = .error(error.code.description)
        }
    }
}

/// Framer and parser by hand, fed in pieces: every outcome until the framer wants more bytes or
/// fails (it throws only framing errors, so the failure is known exactly).
struct Reference {
    var framer: IMAPResponseFramer
    let parser: IMAPParser
    var outcomes: [Outcome] = []
    var framingFailed = false

    init(limits: IMAPLimits) {
        framer = IMAPResponseFramer(limits: limits)
        parser = IMAPParser(limits: limits)
    }

    mutating func feed(_ bytes: ArraySlice<UInt8>) {
        framer.append(bytes)
        while true {
            let frame: [UInt8]
            do {
                guard let next = try framer.nextResponse() else { return }
                frame = next
            } catch {
                outcomes.append(.error(error.code.description))
                framingFailed = true
                return
            }
            do {
                outcomes.append(.response(try parser.parse(frame)))
            } catch {
                outcomes.append(.error(error.code.description))
            }
        }
    }
}
