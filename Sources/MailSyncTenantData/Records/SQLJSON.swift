/// Lists passed to SQLite as one JSON text argument, read back with `json_each(?)`: one statement
/// for any number of values, and no SQL built from them.
package enum SQLJSON {
    /// A JSON array of strings for `json_each(?)`: quotes, backslashes and control characters
    /// escaped (written by hand: JSONSerialization cost a tenth of a first sync).
    package static func array(_ values: [String]) -> String {
        var out: [UInt8] = [0x5B]
        out.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(0x2C) }
            out.append(0x22)
            for byte in value.utf8 {
                switch byte {
                case 0x22, 0x5C: out.append(0x5C); out.append(byte)
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                default: out.append(byte)  // UTF-8 passes through: JSON text is UTF-8
                }
            }
            out.append(0x22)
        }
        out.append(0x5D)
        return String(decoding: out, as: UTF8.self)
    }
}
