/// How schema names become Swift names, and what counts as a well-formed name.
enum Naming {
    /// `MailSync`, `GetMailboxRequest`, `OAuthState`.
    static func isUpperCamel(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first >= "A" && first <= "Z" else { return false }
        return name.unicodeScalars.allSatisfy { isLetterOrDigit($0) }
    }

    /// `page_size`, `id`, `smtp_port2`.
    static func isLowerSnake(_ name: String) -> Bool {
        isSnake(name, lower: true)
    }

    /// `MAILBOX_STATUS_ENABLED`.
    static func isUpperSnake(_ name: String) -> Bool {
        isSnake(name, lower: false)
    }

    private static func isSnake(_ name: String, lower: Bool) -> Bool {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard let first = parts.first?.unicodeScalars.first else { return false }
        let isLetter: (Unicode.Scalar) -> Bool = lower ? { $0 >= "a" && $0 <= "z" } : { $0 >= "A" && $0 <= "Z" }
        guard isLetter(first) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.unicodeScalars.allSatisfy { isLetter($0) || ($0 >= "0" && $0 <= "9") }
        }
    }

    private static func isLetterOrDigit(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
    }

    /// `payload_size` → `payloadSize`; `MAILBOX_STATUS` → `mailboxStatus`.
    static func lowerCamel(fromSnake name: String) -> String {
        let parts = name.split(separator: "_").map { $0.lowercased() }
        guard let first = parts.first else { return name }
        return first + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// `GetMailbox` → `getMailbox`; `OAuthStart` → `oAuthStart`; `URLInfo` → `urlInfo`.
    static func lowerCamel(fromUpperCamel name: String) -> String {
        let scalars = Array(name.unicodeScalars)
        var upperRun = 0
        while upperRun < scalars.count, scalars[upperRun] >= "A" && scalars[upperRun] <= "Z" { upperRun += 1 }
        // In "URLInfo" the run is "URLI": keep the last capital, it starts the next word.
        let lowered = upperRun > 1 && upperRun < scalars.count ? upperRun - 1 : max(upperRun, 1)
        return String(String.UnicodeScalarView(scalars[..<lowered])).lowercased()
            + String(String.UnicodeScalarView(scalars[lowered...]))
    }

    /// `MailboxStatus` → `MAILBOX_STATUS`; `OAuthState` → `O_AUTH_STATE`.
    static func upperSnake(fromUpperCamel name: String) -> String {
        let scalars = Array(name.unicodeScalars)
        var result = ""
        for (i, c) in scalars.enumerated() {
            let isUpper = c >= "A" && c <= "Z"
            if i > 0 && isUpper {
                let previous = scalars[i - 1]
                let previousIsUpper = previous >= "A" && previous <= "Z"
                let nextIsLower = i + 1 < scalars.count && scalars[i + 1] >= "a" && scalars[i + 1] <= "z"
                if !previousIsUpper || nextIsLower { result += "_" }
            }
            result.unicodeScalars.append(c)
        }
        return result.uppercased()
    }

    /// The Swift name of an enum value: the enum's prefix is dropped, `COLOR_RED` in `Color` → `red`.
    /// The prefix stays when dropping it would leave nothing or a leading digit.
    static func enumCase(_ value: String, enumName: String) -> String {
        let prefix = upperSnake(fromUpperCamel: enumName) + "_"
        var stripped = value
        if value.hasPrefix(prefix) {
            let rest = String(value.dropFirst(prefix.count))
            if let first = rest.unicodeScalars.first, first >= "A" && first <= "Z" { stripped = rest }
        }
        return lowerCamel(fromSnake: stripped)
    }

    /// Words Swift reserves; a member with one of these names is written in backticks.
    static let swiftKeywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
        "inout", "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public",
        "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue",
        "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return",
        "throw", "switch", "where", "while", "as", "false", "is", "nil", "self", "super", "throws", "true",
        "try", "await", "async", "any", "some", "Any", "Self", "Type", "Protocol", "consume", "borrowing",
        "consuming", "copy", "discard", "each", "macro", "package",
    ]

    /// `name`, or `` `name` `` when it is a Swift keyword.
    static func escaped(_ name: String) -> String {
        swiftKeywords.contains(name) ? "`\(name)`" : name
    }

    // MARK: Prose

    /// A role as people say it of several callers: `company_manager` → `company managers`,
    /// `salesperson` → `salespeople`.
    static func pluralPhrase(role: String) -> String {
        let words = role.split(separator: "_").joined(separator: " ")
        return words.hasSuffix("person") ? String(words.dropLast("person".count)) + "people" : words + "s"
    }

    /// `a`; `a and b`; `a, b and c`.
    static func sentenceList(_ items: [String]) -> String {
        guard let last = items.last else { return "" }
        return items.count == 1 ? last : items.dropLast().joined(separator: ", ") + " and " + last
    }
}

extension String {
    /// The string with its first character upper-cased: `administrators` → `Administrators`.
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
