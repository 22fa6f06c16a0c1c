import MailSyncIMAP

/// libFuzzer entry: the input (after its first byte) as bytes from an IMAP server, through
/// `IMAPResponseDecoder`, drained with `next()` until it wants more bytes or the framing fails.
///
/// The first byte steers: its high bit picks small limits (so the limit errors are reached with
/// short inputs), its low 7 bits where the bytes are split in two `append` calls. The same bytes
/// are also decoded in one piece, and both runs must give the same responses and errors: the
/// framer's contract is that the result does not depend on how the stream was chunked.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let control = input.first else { return 0 }
    let stream = Array(input.dropFirst())
    let limits = control & 0x80 != 0
        ? IMAPLimits(maxLineLength: 200, maxLiteralSize: 300, maxNestingDepth: 6)
        : IMAPLimits()
    let split = Int(control & 0x7F) * stream.count / 0x7F

    var whole = IMAPResponseDecoder(limits: limits)
    whole.append(stream)
    var wholeOutcomes: [Outcome] = []
    let wholeFailed = drain(&whole, into: &wholeOutcomes)

    var chunked = IMAPResponseDecoder(limits: limits)
    var chunkedOutcomes: [Outcome] = []
    chunked.append(stream[..<split])
    if !drain(&chunked, into: &chunkedOutcomes) {
        chunked.append(stream[split...])
        _ = drain(&chunked, into: &chunkedOutcomes)
    }
    if wholeOutcomes != chunkedOutcomes {
        fatalError("""
            decoding depends on chunking (split at \(split) of \(stream.count), failed whole: \(wholeFailed))
            whole:   \(wholeOutcomes)
            chunked: \(chunkedOutcomes)
            """)
    }
    return 0
}

/// A response or the code of an error (the error's detail may say where the bytes ran out).
enum Outcome: Equatable {
    case response(IMAPResponse)
    case error(String)
}

/// Calls `next()` until it returns nil or a framing error; true if framing failed.
/// Each call consumes at least one response, so the loop ends (bounded anyway).
private func drain(_ decoder: inout IMAPResponseDecoder, into outcomes: inout [Outcome]) -> Bool {
    for _ in 0..<100_000 {
        do {
            guard let response = try decoder.next() else { return false }
            outcomes.append(.response(response))
        } catch {
            outcomes.append(.error(error.code.description))
            if error.code == .lineTooLong || error.code == .literalTooLarge {
                // The framer stays failed and says so again.
                guard (try? decoder.next()) == nil else { fatalError("a failed framer returned a response") }
                return true
            }
        }
    }
    fatalError("100,000 responses from \(outcomes.count) outcomes: next() does not make progress")
}
