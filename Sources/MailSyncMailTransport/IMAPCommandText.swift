import MailSyncErrors

/// Arguments as they go into a command line.
public enum IMAPCommandText {
    /// Whether `bytes` can be sent as a quoted string: no CR, LF or NUL (they would end the
    /// command line, or are not allowed at all) and valid UTF-8 (modified UTF-7 names are ASCII).
    public static func canQuote(_ bytes: [UInt8]) -> Bool {
        !bytes.contains { $0 == 13 || $0 == 10 || $0 == 0 } && String(validating: bytes, as: UTF8.self) != nil
    }

    /// `bytes` as an IMAP quoted string: `"…"` with `\` and `"` escaped.
    ///
    /// Throws (class `.operator`: the client refuses, nothing was sent) when ``canQuote(_:)``
    /// says no: a name with CR or LF could otherwise inject a command of its own.
    public static func quoted(_ bytes: [UInt8]) throws(IMAPConnectionError) -> String {
        guard canQuote(bytes) else {
            throw IMAPConnectionError(.imap(MailSyncErrors.IMAPResponse(
                status: .bad, text: "Not sent: the folder name holds CR, LF, NUL or invalid UTF-8 (\(bytes.count) bytes)",
                phase: .other)))
        }
        var text = "\""
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            if scalar == "\\" || scalar == "\"" { text.unicodeScalars.append("\\") }
            text.unicodeScalars.append(scalar)
        }
        return text + "\""
    }

    /// A folder's raw name, quoted (see ``quoted(_:)``).
    public static func quoted(_ folder: IMAPFolder) throws(IMAPConnectionError) -> String {
        try quoted(folder.rawName)
    }
}
