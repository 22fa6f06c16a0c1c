/// IMAP sequence sets of UIDs (`1:5,9,12:14`): compression into ranges and splitting into
/// command lines of bounded length. Pure; no `*`.
public enum UIDSet {
    /// Bytes a command line needs besides its text: the tag and its space (`a` + up to 10
    /// digits + ` `) and the CRLF.
    public static let lineOverhead = 12 + 2

    /// `uids` (any order, duplicates allowed) as ascending, disjoint, non-adjacent ranges.
    public static func ranges(_ uids: [UInt32]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        for uid in Set(uids).sorted() {
            if let last = result.last, last.upperBound < UInt32.max, last.upperBound + 1 == uid {
                result[result.count - 1] = last.lowerBound...uid
            } else {
                result.append(uid...uid)
            }
        }
        return result
    }

    /// One range as set text: `7` or `3:9`.
    public static func text(_ range: ClosedRange<UInt32>) -> String {
        range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound):\(range.upperBound)"
    }

    /// `uids` as set texts (`1:5,9`), ascending, each at most `maxLength` bytes, every UID in
    /// exactly one. Ranges are kept whole where they fit; one that does not fit even on its own
    /// is split. `maxLength` below 10 (the longest UID) is taken as 10. No UIDs, no texts.
    public static func chunks(_ uids: [UInt32], maxLength: Int) -> [String] {
        let maxLength = max(maxLength, 10)
        var chunks: [String] = []
        var current = ""
        func add(_ piece: String) {
            if current.isEmpty {
                current = piece
            } else if current.utf8.count + 1 + piece.utf8.count <= maxLength {
                current += "," + piece
            } else {
                chunks.append(current)
                current = piece
            }
        }
        for range in ranges(uids) {
            var lower = range.lowerBound
            while true {
                let whole = text(lower...range.upperBound)
                if whole.utf8.count <= maxLength {
                    add(whole)
                    break
                }
                add("\(lower)")  // only when maxLength < 21: a range's text is at most 21 bytes
                lower += 1
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// Command texts `prefix + set + suffix` covering `uids`, split so that no command line
    /// (with tag, space and CRLF: ``lineOverhead``) exceeds `maxCommandLength` bytes, unless the
    /// fixed parts leave room for less than one UID: then each line holds at least one UID.
    public static func commands(prefix: String, suffix: String, uids: [UInt32], maxCommandLength: Int) -> [String] {
        let room = maxCommandLength - lineOverhead - prefix.utf8.count - suffix.utf8.count
        return chunks(uids, maxLength: room).map { prefix + $0 + suffix }
    }
}
