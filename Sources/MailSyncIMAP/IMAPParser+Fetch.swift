/// FETCH data (RFC 3501 7.4.2): `( item SP value … )`.
extension IMAPParser {
    func fetchAttributes(_ cursor: inout ResponseCursor) throws(IMAPError) -> [FetchAttribute] {
        var attributes: [FetchAttribute] = []
        try cursor.list("FETCH data") { (inner: inout ResponseCursor) throws(IMAPError) in
            attributes.append(try fetchAttribute(&inner))
        }
        return attributes
    }

    private func fetchAttribute(_ cursor: inout ResponseCursor) throws(IMAPError) -> FetchAttribute {
        let name = try cursor.atom("a FETCH item").uppercased()
        switch name {
        case "UID":
            try cursor.space()
            return .uid(try cursor.number32("a UID"))
        case "FLAGS":
            try cursor.space()
            return .flags(try cursor.flagList())
        case "INTERNALDATE":
            try cursor.space()
            return .internalDate(IMAPText.lossyUTF8(try cursor.string("INTERNALDATE")))
        case "RFC822.SIZE":
            try cursor.space()
            return .rfc822Size(try cursor.number64("RFC822.SIZE"))
        case "ENVELOPE":
            try cursor.space()
            return .envelope(try envelope(&cursor))
        case _ where Self.sectionItems.contains(name) && cursor.peek == UInt8(ascii: "["):
            let section = try sectionText(&cursor)
            var origin: UInt32?
            if cursor.skip(UInt8(ascii: "<")) {
                origin = try cursor.number32("a partial origin")
                try cursor.expect(UInt8(ascii: ">"), "'>' closing a partial origin")
            }
            try cursor.space()
            return .bodySection(section: section, origin: origin, data: try cursor.nstring("section data"))
        default:
            try cursor.space()
            return .other(name: name, value: try cursor.value())
        }
    }

    /// The text between `[` and `]`, upper-cased; quoted field names may hold `]`.
    private static let sectionItems: Set<String> = ["BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK"]

    private func sectionText(_ cursor: inout ResponseCursor) throws(IMAPError) -> String {
        try cursor.expect(UInt8(ascii: "["), "'[' opening a section")
        var text: [UInt8] = []
        while !cursor.skip(UInt8(ascii: "]")) {
            guard !cursor.atLineEnd else { throw cursor.error(.unexpectedEnd, "expected ']' closing a section") }
            if cursor.peek == UInt8(ascii: "\"") {
                text += [UInt8(ascii: "\"")] + (try cursor.quoted()) + [UInt8(ascii: "\"")]
            } else {
                text.append(cursor.bytes[cursor.index])
                cursor.index += 1
            }
        }
        return IMAPText.lossyUTF8(text).uppercased()
    }

    private func envelope(_ cursor: inout ResponseCursor) throws(IMAPError) -> Envelope {
        var fields: [[UInt8]?] = []
        fields.reserveCapacity(4)
        var addressLists: [[Address]] = []
        addressLists.reserveCapacity(6)
        var position = 0
        try cursor.list("an ENVELOPE") { (inner: inout ResponseCursor) throws(IMAPError) in
            switch position {
            case 0, 1, 8, 9: fields.append(try inner.nstring("an ENVELOPE field"))
            case 2...7: addressLists.append(try addresses(&inner))
            default: throw inner.error(.unexpectedByte, "an ENVELOPE has 10 fields")
            }
            position += 1
        }
        guard position == 10 else { throw cursor.error(.unexpectedEnd, "an ENVELOPE has 10 fields, got \(position)") }
        return Envelope(
            date: fields[0], subject: fields[1],
            from: addressLists[0], sender: addressLists[1], replyTo: addressLists[2],
            to: addressLists[3], cc: addressLists[4], bcc: addressLists[5],
            inReplyTo: fields[2], messageID: fields[3]
        )
    }

    private func addresses(_ cursor: inout ResponseCursor) throws(IMAPError) -> [Address] {
        if cursor.skipKeyword("NIL") { return [] }
        var result: [Address] = []
        try cursor.list("an address list") { (inner: inout ResponseCursor) throws(IMAPError) in
            var address = Address()
            var count = 0
            try inner.list("an address") { (field: inout ResponseCursor) throws(IMAPError) in
                let value = try field.nstring("an address field")
                switch count {
                case 0: address.name = value
                case 1: address.sourceRoute = value
                case 2: address.mailbox = value
                case 3: address.host = value
                default: throw field.error(.unexpectedByte, "an address has 4 fields")
                }
                count += 1
            }
            guard count == 4 else { throw inner.error(.unexpectedEnd, "an address has 4 fields, got \(count)") }
            result.append(address)
        }
        return result
    }
}
