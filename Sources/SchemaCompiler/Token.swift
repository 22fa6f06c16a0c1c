/// One lexical unit of a schema file.
struct Token: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// A name: `message`, `GetMailbox`, `page_size`. Keywords are contextual, so they are
        /// identifiers too.
        case identifier
        /// A decimal integer, possibly negative.
        case integer
        /// A double-quoted string; `text` holds its value without quotes.
        case string
        /// One of `{ } ( ) [ ] < > ; , = .`
        case symbol
        case endOfFile
    }

    var kind: Kind
    var text: String
    var location: SourceLocation
    /// `///` lines directly before this token, without the slashes and one leading space.
    var doc: [String] = []

    /// How the token reads in an error message.
    var quoted: String {
        switch kind {
        case .endOfFile: "end of file"
        case .string: "string \"\(text)\""
        case .integer: "number \(text)"
        case .identifier, .symbol: "'\(text)'"
        }
    }

    func isSymbol(_ symbol: String) -> Bool { kind == .symbol && text == symbol }
    func isKeyword(_ keyword: String) -> Bool { kind == .identifier && text == keyword }
}
