import MailSyncIMAP

/// A small seeded generator so random chunkings are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == UInt8 {
    init(_ text: String) { self = Array(text.utf8) }
}

/// Feeds `chunks` in order and collects every response until the decoder needs more bytes.
func decode(_ chunks: [[UInt8]], limits: IMAPLimits = IMAPLimits()) throws(IMAPError) -> [IMAPResponse] {
    var decoder = IMAPResponseDecoder(limits: limits)
    var responses: [IMAPResponse] = []
    for chunk in chunks {
        decoder.append(chunk)
        while let response = try decoder.next() { responses.append(response) }
    }
    return responses
}

/// Frames `chunks` and returns the frames.
func frames(_ chunks: [[UInt8]], limits: IMAPLimits = IMAPLimits()) throws(IMAPError) -> [[UInt8]] {
    var framer = IMAPResponseFramer(limits: limits)
    var result: [[UInt8]] = []
    for chunk in chunks {
        framer.append(chunk)
        while let frame = try framer.nextResponse() { result.append(frame) }
    }
    return result
}

/// The chunkings every decoder test runs: whole, byte by byte, and random chunk sizes.
func chunkings(of bytes: [UInt8], randomRuns: Int = 20) -> [[[UInt8]]] {
    var result: [[[UInt8]]] = [[bytes], bytes.map { [$0] }]
    var random = SplitMix64(seed: 0x1AB5 &+ UInt64(bytes.count))
    for _ in 0..<randomRuns {
        var chunks: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let size = Int.random(in: 1...max(1, min(17, bytes.count - index)), using: &random)
            chunks.append(Array(bytes[index..<index + size]))
            index += size
        }
        result.append(chunks)
    }
    return result
}

func parse(_ text: String) throws(IMAPError) -> IMAPResponse {
    try IMAPParser().parse(Array(text))
}

func parse(_ bytes: [UInt8]) throws(IMAPError) -> IMAPResponse {
    try IMAPParser().parse(bytes)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
