#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import MailSyncCoding

extension MailSync {
    /// A point in time with microsecond precision (the schema's `timestamp`): microseconds since
    /// 1970-01-01T00:00:00Z. Converts to and from `Date` with `init(date:)` and `date`.
    public typealias Timestamp = MailSyncCoding.Timestamp
}

extension MailSyncCoding.Timestamp {
    /// The timestamp nearest `date`, to the microsecond (a `Date` is a `Double` of seconds, so finer
    /// parts are rounded half away from zero). Dates beyond the representable range (about
    /// ±292,000 years from 1970) are clamped to it; a NaN date becomes the epoch.
    public init(date: Date) {
        let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
        if microseconds.isNaN {
            self.init(microsecondsSinceEpoch: 0)
        } else if let exact = Int64(exactly: microseconds) {
            self.init(microsecondsSinceEpoch: exact)
        } else {
            self.init(microsecondsSinceEpoch: microseconds < 0 ? .min : .max)
        }
    }

    /// The same instant as a `Date` (exact to the microsecond for dates within about 140 years of
    /// 2001, `Date`'s reference; further away a `Double` holds fewer digits).
    public var date: Date {
        Date(timeIntervalSince1970: Double(microsecondsSinceEpoch) / 1_000_000)
    }
}
