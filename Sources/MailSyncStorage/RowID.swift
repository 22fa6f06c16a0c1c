/// Random row ids: RFC 9562 version 4 UUIDs in lower case (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`).
///
/// The bytes come from `SystemRandomNumberGenerator` (getrandom(2)). Foundation's `UUID()` opens,
/// reads and closes `/dev/urandom` for every id, which was 3% of a first sync's CPU, on the
/// tenant's writer thread, inside its transactions.
public enum RowID {
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high)
            bytes[8 + index] = UInt8(truncatingIfNeeded: low)
            high >>= 8
            low >>= 8
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // variant 10
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(0x2D) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
