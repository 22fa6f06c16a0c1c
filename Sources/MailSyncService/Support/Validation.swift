import Foundation
import MailSyncRPC

/// Checks on request fields. Each failure is `invalid argument` naming the field and the rule.
enum Validate {
    static func required(_ value: String, _ field: String) throws {
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RPCError(.invalidArgument, "\(field) is required")
        }
    }

    static func length(_ value: String, _ field: String, max: Int, min: Int = 0) throws {
        let count = value.count
        guard count >= min else { throw RPCError(.invalidArgument, "\(field) must have at least \(min) characters") }
        guard count <= max else { throw RPCError(.invalidArgument, "\(field) must have at most \(max) characters, got \(count)") }
        try noControlCharacters(value, field)
    }

    /// No control character (Unicode category Cc: NUL, CR, LF, TAB, DEL, C1 controls): in a
    /// password, login name, host or address one could end a mail protocol command line and start
    /// another. The message never quotes the value (it may be a secret).
    static func noControlCharacters(_ value: String, _ field: String) throws {
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw RPCError(.invalidArgument, "\(field) must not contain control characters (line breaks, NUL, DEL, tabs)")
        }
    }

    /// A CRM-supplied id: 1–128 characters of letters, digits and `-_.:@`.
    static func identifier(_ value: String, _ field: String) throws {
        try required(value, field)
        guard value.count <= 128,
            value.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.:@".unicodeScalars.contains($0)) })
        else {
            throw RPCError(.invalidArgument, "\(field) must be 1–128 characters of letters, digits and - _ . : @")
        }
    }

    /// An email address as mail servers take it: `local@domain`, at most 254 characters, a domain
    /// that is a valid host name. Returns it lower-cased in the domain part.
    @discardableResult
    static func email(_ value: String, _ field: String) throws -> String {
        try noControlCharacters(value, field)
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard trimmed.count <= 254, let at = trimmed.lastIndex(of: "@") else {
            throw RPCError(.invalidArgument, "\(field) must be an email address like name@example.com, got '\(value.prefix(80))'")
        }
        let local = trimmed[..<at]
        let domain = trimmed[trimmed.index(after: at)...]
        guard !local.isEmpty, local.count <= 64,
            local.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && !"<>()[],;:\\\"".unicodeScalars.contains($0) }),
            isHostName(String(domain)), domain.contains(".")
        else {
            throw RPCError(.invalidArgument, "\(field) must be an email address like name@example.com, got '\(value.prefix(80))'")
        }
        return local + "@" + domain.lowercased()
    }

    static func hostName(_ value: String, _ field: String) throws {
        try noControlCharacters(value, field)
        guard isHostName(value) else {
            throw RPCError(.invalidArgument, "\(field) must be a host name like imap.example.com, got '\(value.prefix(80))'")
        }
    }

    static func port(_ value: UInt32, _ field: String) throws {
        guard (1...65535).contains(value) else {
            throw RPCError(.invalidArgument, "\(field) must be a port from 1 to 65535, got \(value)")
        }
    }

    static func timeZone(_ value: String, _ field: String) throws {
        guard TimeZone(identifier: value) != nil else {
            throw RPCError(.invalidArgument, "\(field) must be an IANA time zone such as Europe/Berlin, got '\(value.prefix(80))'")
        }
    }

    /// Letters, digits and hyphens in dot-separated labels of 1–63, at most 253 in all; or an IPv4
    /// address.
    static func isHostName(_ value: String) -> Bool {
        guard !value.isEmpty, value.count <= 253 else { return false }
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
        }
    }
}
