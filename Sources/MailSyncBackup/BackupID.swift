#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import MailSyncStorage

/// A backup's name: its tenant and the UTC time it was taken, `<tenant-uuid>/<stamp>`, for example
/// `3f2c…-…/20260921T120000123456Z` (microseconds). Stamps sort as times, so names sort by age.
///
/// ``init(validating:)`` accepts exactly that form (a canonical tenant id, `/`, 8 digits, `T`,
/// 12 digits, `Z`), so an id from a client can never turn into another path. Backup files are
/// `<stamp>.sqlite.z` and `<stamp>.json` in the tenant's backup directory.
public struct BackupID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let tenant: TenantID
    /// `yyyyMMdd'T'HHmmss` + 6 digits of microseconds + `Z`.
    public let stamp: String

    /// The id of a backup of `tenant` taken at `microseconds` since 1970 (UTC).
    public init(tenant: TenantID, microseconds: Int64) {
        self.tenant = tenant
        var seconds = time_t(microseconds / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        stamp = pad(Int(parts.tm_year) + 1900, 4) + pad(Int(parts.tm_mon) + 1, 2) + pad(Int(parts.tm_mday), 2) + "T"
            + pad(Int(parts.tm_hour), 2) + pad(Int(parts.tm_min), 2) + pad(Int(parts.tm_sec), 2)
            + pad(Int(microseconds % 1_000_000), 6) + "Z"
    }

    /// Parses `<tenant-uuid>/<stamp>`; `nil` for anything else.
    public init?(validating text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let tenant = TenantID(validating: String(parts[0])), Self.isStamp(parts[1]) else { return nil }
        self.tenant = tenant
        self.stamp = String(parts[1])
    }

    /// The id of the backup of `tenant` whose files are named `stamp` + an extension.
    init?(tenant: TenantID, stamp: Substring) {
        guard Self.isStamp(stamp) else { return nil }
        self.tenant = tenant
        self.stamp = String(stamp)
    }

    static func isStamp(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 22, bytes[8] == UInt8(ascii: "T"), bytes[21] == UInt8(ascii: "Z") else { return false }
        return bytes.enumerated().allSatisfy { index, byte in
            index == 8 || index == 21 || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }

    /// The time in the stamp, in microseconds since 1970 (UTC).
    public var microseconds: Int64 {
        let digits = Array(stamp.utf8).map { Int64($0) - 48 }
        func number(_ range: Range<Int>) -> Int64 { range.reduce(0) { $0 * 10 + digits[$1] } }
        var parts = tm()
        parts.tm_year = Int32(number(0..<4) - 1900)
        parts.tm_mon = Int32(number(4..<6) - 1)
        parts.tm_mday = Int32(number(6..<8))
        parts.tm_hour = Int32(number(9..<11))
        parts.tm_min = Int32(number(11..<13))
        parts.tm_sec = Int32(number(13..<15))
        return Int64(timegm(&parts)) * 1_000_000 + number(15..<21)
    }

    public var description: String { tenant.pathComponent + "/" + stamp }

    public static func < (lhs: BackupID, rhs: BackupID) -> Bool { lhs.description < rhs.description }
}
