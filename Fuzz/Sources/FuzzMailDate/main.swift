import MailSyncMatching

/// libFuzzer entry: the input as a `Date:` header through `MailDate.parse` and
/// `TimelineDate.choose`. A parsed date lies within the years the parser accepts (1900–9999,
/// zones of at most ±23:59); the timeline takes the header only within its bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let lowest: Int64 = -2_208_988_800 * 1_000_000 - 86_400_000_000      // 1900-01-01 minus a day
    let highest: Int64 = 253_402_300_800 * 1_000_000 + 86_400_000_000    // 10000-01-01 plus a day
    if let date = MailDate.parse(bytes), date < lowest || date > highest {
        fatalError("MailDate.parse gave \(date) µs, outside 1900...9999, for \(bytes)")
    }
    let now: Int64 = 1_790_000_000_000_000
    let backfill = now - 90 * 86_400_000_000
    let chosen = TimelineDate.choose(header: bytes, internalDate: now - 1, now: now, backfill: backfill)
    switch chosen.source {
    case .dateHeader:
        if chosen.microseconds > now + TimelineDate.futureSkew || chosen.microseconds < backfill - 86_400_000_000 {
            fatalError("TimelineDate took a header date outside its bounds: \(chosen.microseconds)")
        }
    case .serverReceived:
        if chosen.microseconds != now - 1 { fatalError("TimelineDate lost the INTERNALDATE: \(chosen.microseconds)") }
    }
    return 0
}
