/// Splits a schema file into tokens, dropping `//` and `/* */` comments and attaching `///` doc
/// comments to the token that follows them.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var column = 1
    private var pendingDoc: [String] = []

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    /// Every token, ending with `.endOfFile`; malformed input is reported to `sink` and skipped.
    mutating func tokenize(into sink: inout DiagnosticSink) -> [Token] {
        var tokens: [Token] = []
        while true {
            skipTrivia(into: &sink)
            let start = SourceLocation(line: line, column: column)
            guard let c = peek() else {
                tokens.append(Token(kind: .endOfFile, text: "", location: start, doc: pendingDoc))
                return tokens
            }
            if let token = lexToken(c, start: start, into: &sink) {
                var token = token
                token.doc = pendingDoc
                pendingDoc = []
                tokens.append(token)
            }
        }
    }

    private mutating func lexToken(_ c: Unicode.Scalar, start: SourceLocation, into sink: inout DiagnosticSink) -> Token? {
        if Self.isIdentifierStart(c) {
            var text = ""
            while let c = peek(), Self.isIdentifierStart(c) || Self.isDigit(c) { text.unicodeScalars.append(advance()) }
            return Token(kind: .identifier, text: text, location: start)
        }
        if Self.isDigit(c) || (c == "-" && peek(1).map(Self.isDigit) == true) {
            var text = String(advance())
            while let c = peek(), Self.isDigit(c) { text.unicodeScalars.append(advance()) }
            if let c = peek(), Self.isIdentifierStart(c) {
                sink.error(SourceLocation(line: line, column: column), "unexpected '\(c)' after number \(text)")
            }
            return Token(kind: .integer, text: text, location: start)
        }
        if c == "\"" {
            return lexString(start: start, into: &sink)
        }
        if "{}()[]<>;,=.".unicodeScalars.contains(c) {
            return Token(kind: .symbol, text: String(advance()), location: start)
        }
        sink.error(start, "unexpected character '\(c)'")
        _ = advance()
        return nil
    }

    private mutating func lexString(start: SourceLocation, into sink: inout DiagnosticSink) -> Token? {
        _ = advance()
        var text = ""
        while let c = peek(), c != "\n" {
            _ = advance()
            if c == "\"" { return Token(kind: .string, text: text, location: start) }
            if c == "\\", let escaped = peek(), escaped == "\"" || escaped == "\\" {
                text.unicodeScalars.append(advance())
            } else {
                text.unicodeScalars.append(c)
            }
        }
        sink.error(start, "unterminated string: add the closing '\"' on the same line")
        return Token(kind: .string, text: text, location: start)
    }

    private mutating func skipTrivia(into sink: inout DiagnosticSink) {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\r" || c == "\n" {
                _ = advance()
            } else if c == "/" && peek(1) == "/" {
                let isDoc = peek(2) == "/" && peek(3) != "/"
                var text = ""
                while let c = peek(), c != "\n" { text.unicodeScalars.append(advance()) }
                if isDoc {
                    var body = Substring(text.dropFirst(3))
                    if body.first == " " { body = body.dropFirst() }
                    pendingDoc.append(String(body))
                }
            } else if c == "/" && peek(1) == "*" {
                let start = SourceLocation(line: line, column: column)
                _ = advance()
                _ = advance()
                var closed = false
                while let c = peek() {
                    _ = advance()
                    if c == "*" && peek() == "/" {
                        _ = advance()
                        closed = true
                        break
                    }
                }
                if !closed { sink.error(start, "unterminated comment: '/*' has no matching '*/'") }
            } else {
                return
            }
        }
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private mutating func advance() -> Unicode.Scalar {
        let c = scalars[index]
        index += 1
        if c == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        return c
    }

    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
}
