/// Parses one framed server response (from `IMAPResponseFramer`) into an `IMAPResponse`.
///
/// - Input: exactly one response, line ending included, literals inline as `{n}` CRLF + n bytes.
/// - Strictness: strict where a mistake would misplace data (numbers, strings, literals, list
///   nesting, trailing bytes); lenient where servers differ harmlessly (repeated spaces, a bare
///   LF, a missing text after `OK`, unknown untagged responses, FETCH items and response codes,
///   which are kept rather than rejected).
/// - Failure: throws `IMAPError`; the framing is unaffected, so the caller may log the error and
///   go on with the next response.
/// - Limits: literal size and list nesting from `limits`; line length is the framer's job.
public struct IMAPParser: Sendable {
    public let limits: IMAPLimits

    public init(limits: IMAPLimits = IMAPLimits()) {
        self.limits = limits
    }

    public func parse(_ response: [UInt8]) throws(IMAPError) -> IMAPResponse {
        var cursor = ResponseCursor(response, limits: limits)
        let result: IMAPResponse
        switch cursor.peek {
        case nil:
            throw cursor.error(.unexpectedEnd, "empty response")
        case UInt8(ascii: "+"):
            cursor.index += 1
            _ = cursor.skip(UInt8(ascii: " "))
            result = .continuation(IMAPText.lossyUTF8(cursor.restOfLine()))
        case UInt8(ascii: "*"):
            cursor.index += 1
            try cursor.space()
            result = .untagged(try untagged(&cursor))
        default:
            let tag = try cursor.atom("a tag")
            try cursor.space()
            let status = try statusResponse(&cursor, allowed: [.ok, .no, .bad])
            result = .tagged(tag: tag, status: status)
        }
        try cursor.finish()
        return result
    }

    // MARK: Untagged

    private func untagged(_ cursor: inout ResponseCursor) throws(IMAPError) -> UntaggedResponse {
        if cursor.atDigit {
            let number = try cursor.number32("a message number")
            try cursor.space()
            let keyword = try cursor.atom("a message data keyword").uppercased()
            switch keyword {
            case "EXISTS": return .exists(number)
            case "RECENT": return .recent(number)
            case "EXPUNGE": return .expunge(number)
            case "FETCH":
                try cursor.space()
                return .fetch(sequenceNumber: number, attributes: try fetchAttributes(&cursor))
            default:
                let rest = otherText(&cursor)
                return .other(keyword: keyword, text: "\(number) \(keyword)" + (rest.isEmpty ? "" : " " + rest))
            }
        }
        let keywordStart = cursor.index
        let keyword = try cursor.atom("a response keyword").uppercased()
        switch keyword {
        case "OK", "NO", "BAD", "BYE", "PREAUTH":
            cursor.index = keywordStart
            return .status(try statusResponse(&cursor, allowed: [.ok, .no, .bad, .bye, .preauth]))
        case "CAPABILITY":
            return .capability(try capabilities(&cursor, stopAtBracket: true))
        case "FLAGS":
            try cursor.space()
            return .flags(try cursor.flagList())
        case "LIST", "LSUB":
            try cursor.space()
            return .list(try listing(&cursor, isSubscription: keyword == "LSUB"))
        case "SEARCH":
            return .search(try searchResults(&cursor))
        case "ESEARCH":
            return .esearch(try esearch(&cursor))
        case "EXISTS", "RECENT", "EXPUNGE", "FETCH":
            cursor.index = keywordStart
            throw cursor.error(.invalidNumber, "expected a message number before \(keyword)")
        default:
            return .other(keyword: keyword, text: otherText(&cursor))
        }
    }

    /// Everything after the keyword up to the end of the response (literals included).
    private func otherText(_ cursor: inout ResponseCursor) -> String {
        cursor.skipSpaces()
        var end = cursor.bytes.count
        if end > cursor.index, cursor.bytes[end - 1] == 0x0A { end -= 1 }
        if end > cursor.index, cursor.bytes[end - 1] == 0x0D { end -= 1 }
        defer { cursor.index = end }
        return IMAPText.lossyUTF8(cursor.bytes[cursor.index..<end])
    }

    private func capabilities(_ cursor: inout ResponseCursor, stopAtBracket: Bool) throws(IMAPError) -> [String] {
        var result: [String] = []
        while cursor.skip(UInt8(ascii: " ")) {
            cursor.skipSpaces()
            if cursor.atLineEnd || cursor.peek == UInt8(ascii: "]") { break }
            result.append(try cursor.atom("a capability", stopAtBracket: stopAtBracket))
        }
        return result
    }

    // MARK: Status responses and codes

    private func statusResponse(_ cursor: inout ResponseCursor, allowed: Set<StatusResponse.Condition>) throws(IMAPError) -> StatusResponse {
        let wordStart = cursor.index
        let word = try cursor.atom("a status (OK, NO, BAD…)")
        guard let condition = StatusResponse.Condition(rawValue: word.uppercased()), allowed.contains(condition) else {
            cursor.index = wordStart
            throw cursor.error(.unexpectedByte, "expected a status (\(allowed.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        // "a1 OK" with no text is common enough to accept.
        guard cursor.skip(UInt8(ascii: " ")) else { return StatusResponse(condition: condition, text: "") }
        var code: ResponseCode?
        if cursor.peek == UInt8(ascii: "[") {
            let start = cursor.index
            if let parsed = responseCode(&cursor) {
                code = parsed
                _ = cursor.skip(UInt8(ascii: " "))
            } else {
                cursor.index = start  // no closing "]": keep the whole text
            }
        }
        return StatusResponse(condition: condition, code: code, text: IMAPText.lossyUTF8(cursor.restOfLine()))
    }

    /// `[NAME args]`; `nil` if there is no `]` on the line. A known code with arguments it cannot
    /// parse becomes `.other`.
    private func responseCode(_ cursor: inout ResponseCursor) -> ResponseCode? {
        cursor.index += 1
        guard let name = try? cursor.atom("a response code").uppercased() else { return rawCode(&cursor, name: "") }
        let afterName = cursor.index
        var attempt = cursor
        if let code = try? knownCode(name, &attempt), attempt.skip(UInt8(ascii: "]")) {
            cursor = attempt
            return code
        }
        cursor.index = afterName
        return rawCode(&cursor, name: name)
    }

    private func knownCode(_ name: String, _ cursor: inout ResponseCursor) throws(IMAPError) -> ResponseCode? {
        switch name {
        case "ALERT": return .alert
        case "AUTHENTICATIONFAILED": return .authenticationFailed
        case "READ-ONLY": return .readOnly
        case "READ-WRITE": return .readWrite
        case "TRYCREATE": return .tryCreate
        case "UIDVALIDITY", "UIDNEXT", "UNSEEN":
            try cursor.space()
            let number = try cursor.number32(name)
            return name == "UIDVALIDITY" ? .uidValidity(number) : name == "UIDNEXT" ? .uidNext(number) : .unseen(number)
        case "CAPABILITY":
            return .capability(try capabilities(&cursor, stopAtBracket: true))
        case "PERMANENTFLAGS":
            try cursor.space()
            return .permanentFlags(try cursor.flagList())
        default:
            return nil
        }
    }

    private func rawCode(_ cursor: inout ResponseCursor, name: String) -> ResponseCode? {
        let line = cursor.restOfLine()
        guard let close = line.firstIndex(of: UInt8(ascii: "]")) else { return nil }
        let arguments = line[line.startIndex..<close].drop(while: { $0 == UInt8(ascii: " ") })
        cursor.index = close + 1
        return .other(name: name, arguments: arguments.isEmpty ? nil : IMAPText.lossyUTF8(arguments))
    }

    // MARK: LIST, SEARCH, ESEARCH

    private func listing(_ cursor: inout ResponseCursor, isSubscription: Bool) throws(IMAPError) -> MailboxListing {
        let attributes = try cursor.flagList()
        try cursor.space()
        var delimiter: Character?
        if !cursor.skipKeyword("NIL") {
            let bytes = try cursor.quoted()
            guard bytes.count == 1, bytes[0] < 0x80 else {
                throw cursor.error(.unexpectedByte, "a hierarchy delimiter must be one ASCII character")
            }
            delimiter = Character(Unicode.Scalar(bytes[0]))
        }
        try cursor.space()
        let name = try cursor.astring("a mailbox name")
        // RFC 5258 extended data, e.g. ("CHILDINFO" ("SUBSCRIBED")): parsed for validity, dropped.
        while cursor.skip(UInt8(ascii: " ")) {
            cursor.skipSpaces()
            if cursor.atLineEnd { break }
            _ = try cursor.value()
        }
        return MailboxListing(attributes: attributes, delimiter: delimiter, rawName: name, isSubscription: isSubscription)
    }

    private func searchResults(_ cursor: inout ResponseCursor) throws(IMAPError) -> [UInt32] {
        var numbers: [UInt32] = []
        while cursor.skip(UInt8(ascii: " ")) {
            cursor.skipSpaces()
            if cursor.atLineEnd { break }
            if cursor.peek == UInt8(ascii: "(") {
                _ = try cursor.value()  // RFC 7162 "(MODSEQ n)"
                continue
            }
            numbers.append(try cursor.number32("a message number"))
        }
        return numbers
    }

    private func esearch(_ cursor: inout ResponseCursor) throws(IMAPError) -> ESearchResponse {
        var result = ESearchResponse()
        guard cursor.skip(UInt8(ascii: " ")) else { return result }
        cursor.skipSpaces()
        if cursor.peek == UInt8(ascii: "(") {
            var tag: String?
            try cursor.list("a search correlator") { (inner: inout ResponseCursor) throws(IMAPError) in
                guard inner.skipKeyword("TAG") else { _ = try inner.value(); return }
                try inner.space()
                tag = IMAPText.lossyUTF8(try inner.astring("a tag"))
            }
            result.tag = tag
            guard cursor.skip(UInt8(ascii: " ")) else { return result }
            cursor.skipSpaces()
        }
        if cursor.skipKeyword("UID") {
            result.isUID = true
            guard cursor.skip(UInt8(ascii: " ")) else { return result }
        }
        while true {
            cursor.skipSpaces()
            if cursor.atLineEnd { break }
            let name = try cursor.atom("a search return item").uppercased()
            try cursor.space()
            switch name {
            case "MIN": result.min = try cursor.number32("MIN")
            case "MAX": result.max = try cursor.number32("MAX")
            case "COUNT": result.count = try cursor.number32("COUNT")
            case "ALL": result.all = try sequenceSet(&cursor)
            default: _ = try cursor.value()
            }
            if !cursor.skip(UInt8(ascii: " ")) { break }
        }
        return result
    }

    /// `1:3,7,9:8` (no `*`: servers send concrete numbers in results).
    private func sequenceSet(_ cursor: inout ResponseCursor) throws(IMAPError) -> [ClosedRange<UInt32>] {
        var ranges: [ClosedRange<UInt32>] = []
        repeat {
            let first = try cursor.number32("a sequence number")
            var last = first
            if cursor.skip(UInt8(ascii: ":")) { last = try cursor.number32("a sequence number") }
            ranges.append(min(first, last)...max(first, last))
        } while cursor.skip(UInt8(ascii: ","))
        return ranges
    }
}
