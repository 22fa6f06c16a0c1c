/// Mailbox names in IMAP's modified UTF-7 (RFC 3501 5.1.3).
///
/// Printable ASCII stands for itself except `&`; `&-` is `&`; `&…-` holds UTF-16BE in base64
/// with `,` instead of `/` and no padding.
public enum ModifiedUTF7 {
    /// Decodes a mailbox name; `nil` if the bytes are not valid modified UTF-7 (8-bit bytes, an
    /// unterminated or malformed `&…` run, an unpaired surrogate). Never traps.
    public static func decode(_ bytes: some Collection<UInt8>) -> String? {
        var result = String.UnicodeScalarView()
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            guard byte >= 0x20, byte <= 0x7E else { return nil }
            guard byte == UInt8(ascii: "&") else {
                result.append(Unicode.Scalar(byte))
                continue
            }
            var units: [UInt16] = []
            var bits: UInt32 = 0
            var bitCount = 0
            var sextets = 0
            var terminated = false
            while let next = iterator.next() {
                if next == UInt8(ascii: "-") {
                    terminated = true
                    break
                }
                guard let value = sextet(next) else { return nil }
                sextets += 1
                bits = (bits << 6) | UInt32(value)
                bitCount += 6
                if bitCount >= 16 {
                    bitCount -= 16
                    units.append(UInt16(truncatingIfNeeded: bits >> UInt32(bitCount)))
                    bits &= (1 << UInt32(bitCount)) - 1
                }
            }
            // Leftover bits are padding and must be zero; "&-" is the only empty run.
            guard terminated, bitCount < 6, bits == 0 else { return nil }
            if sextets == 0 {
                result.append("&")
                continue
            }
            var decoder = UTF16()
            var unitIterator = units.makeIterator()
            decoding: while true {
                switch decoder.decode(&unitIterator) {
                case .scalarValue(let scalar): result.append(scalar)
                case .emptyInput: break decoding
                case .error: return nil
                }
            }
        }
        return String(result)
    }

    /// Encodes a name for a command (SELECT, EXAMINE, …); every String has an encoding.
    public static func encode(_ name: String) -> [UInt8] {
        var output: [UInt8] = []
        var pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            output.append(UInt8(ascii: "&"))
            var bytes: [UInt8] = []
            for unit in pending { bytes.append(UInt8(unit >> 8)); bytes.append(UInt8(unit & 0xFF)) }
            var index = 0
            while index < bytes.count {
                let chunk = bytes[index..<min(index + 3, bytes.count)]
                var value: UInt32 = 0
                for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << UInt32(16 - 8 * offset) }
                let count = chunk.count + 1
                for position in 0..<count { output.append(alphabet[Int((value >> UInt32(18 - 6 * position)) & 0x3F)]) }
                index += 3
            }
            output.append(UInt8(ascii: "-"))
            pending.removeAll()
        }
        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20, scalar.value <= 0x7E {
                flush()
                output.append(UInt8(scalar.value))
                if scalar == "&" { output.append(UInt8(ascii: "-")) }
            } else {
                pending.append(contentsOf: scalar.utf16)
            }
        }
        flush()
        return output
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: ","): 63
        default: nil
        }
    }
}
