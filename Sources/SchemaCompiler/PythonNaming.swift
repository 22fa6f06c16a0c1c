/// How schema names become Python names in the generated client (`mailsync-gen --python-out`).
enum PythonNaming {
    /// Python's keywords; an attribute or method with one of these names gets a trailing `_`.
    static let keywords: Set<String> = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
        "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
        "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
    ]

    /// Members every generated message has (from `mailsync._codec.Message` and the dataclass);
    /// a field with one of these names gets a trailing `_` too.
    static let messageMembers: Set<String> = ["encode", "decode"]

    /// A field's attribute: the schema name (already lower_snake_case), escaped.
    static func attribute(_ field: FieldDecl) -> String {
        escaped(field.name, also: messageMembers)
    }

    /// `name`, or `name_` when it is a keyword or in `also`. Schema names never end in `_`, so the
    /// escaped name cannot collide with another field's.
    static func escaped(_ name: String, also reserved: Set<String> = []) -> String {
        keywords.contains(name) || reserved.contains(name) ? name + "_" : name
    }

    /// `GetMailbox` → `get_mailbox`; `URLInfo` → `url_info`; `StartOAuthConnection` →
    /// `start_oauth_connection` (a single capital before a capitalised word joins it, as in OAuth).
    static func snake(fromUpperCamel name: String) -> String {
        let scalars = Array(name.unicodeScalars)
        func isUpper(_ i: Int) -> Bool { i >= 0 && i < scalars.count && scalars[i] >= "A" && scalars[i] <= "Z" }
        func isLower(_ i: Int) -> Bool { i >= 0 && i < scalars.count && scalars[i] >= "a" && scalars[i] <= "z" }
        var result = ""
        for (i, c) in scalars.enumerated() {
            if i > 0 && isUpper(i) {
                let afterLowerOrDigit = !isUpper(i - 1)
                let endsCapitalRun = isUpper(i - 1) && isLower(i + 1) && isUpper(i - 2)
                if afterLowerOrDigit || endsCapitalRun { result += "_" }
            }
            result.unicodeScalars.append(c)
        }
        return result.lowercased()
    }

    /// The member name of an enum value: the schema name without the enum's prefix, still
    /// UPPER_SNAKE_CASE (`MAIL_PROVIDER_GMAIL` in `MailProvider` → `GMAIL`). The prefix stays when
    /// dropping it would leave nothing or a leading digit (`SHAPE_2D` → `SHAPE_2D`).
    static func enumMember(_ value: String, enumName: String) -> String {
        let prefix = Naming.upperSnake(fromUpperCamel: enumName) + "_"
        guard value.hasPrefix(prefix) else { return value }
        let rest = String(value.dropFirst(prefix.count))
        guard let first = rest.unicodeScalars.first, first >= "A" && first <= "Z" else { return value }
        return rest
    }

    /// Schema doc lines as a Python docstring at the current indentation: one line, or a first
    /// line, the rest, and the closing quotes on a line of their own. Nothing for no lines.
    static func docstring(_ lines: [String], into w: inout CodeWriter) {
        var lines = lines.map(escapedForDocstring)
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first else { return }
        if lines.count == 1 {
            w.line("\"\"\"\(first)\(first.hasSuffix("\"") ? " " : "")\"\"\"")
            return
        }
        w.line("\"\"\"\(first)")
        for line in lines.dropFirst() { w.line(line) }
        w.line("\"\"\"")
    }

    /// Schema doc lines as `#:` comments (Sphinx's attribute docs), for fields and enum values.
    static func comment(_ lines: [String], into w: inout CodeWriter) {
        for line in lines { w.line(line.isEmpty ? "#:" : "#: " + line) }
    }

    private static func escapedForDocstring(_ line: String) -> String {
        line.replacing("\\", with: "\\\\").replacing("\"\"\"", with: "\\\"\\\"\\\"")
    }
}
