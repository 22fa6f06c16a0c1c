import Foundation
import MailSyncMailTransport
import Testing

@Suite("IMAPDate: INTERNALDATE and SEARCH dates, locale-free", .timeLimit(.minutes(5)))
struct IMAPDateTests {
    @Test("INTERNALDATE texts parse to the right instant, zones applied")
    func parse() {
        // 1996-07-17 09:44:25 UTC = 837_596_665.
        #expect(IMAPDate.parseInternalDate("17-Jul-1996 02:44:25 -0700") == Date(timeIntervalSince1970: 837_596_665))
        #expect(IMAPDate.parseInternalDate("17-jul-1996 09:44:25 +0000") == Date(timeIntervalSince1970: 837_596_665))
        #expect(IMAPDate.parseInternalDate(" 1-Jan-1970 00:00:00 +0000") == Date(timeIntervalSince1970: 0))
        #expect(IMAPDate.parseInternalDate("01-Jan-1970 01:30:00 +0130") == Date(timeIntervalSince1970: 0))
        #expect(IMAPDate.parseInternalDate("29-Feb-2024 23:59:59 +0000") == Date(timeIntervalSince1970: 1_709_251_199))
        #expect(IMAPDate.parseInternalDate("31-Dec-2099 12:00:00 -1200") == Date(timeIntervalSince1970: 4_102_444_800))
    }

    @Test("garbage gives nil", arguments: [
        "", "garbage", "17-Jul-1996", "17-Jul-1996 02:44:25", "17-Jly-1996 02:44:25 -0700", "32-Jul-1996 02:44:25 -0700",
        "29-Feb-2023 02:44:25 +0000", "0-Jul-1996 02:44:25 -0700", "17-Jul-1996 24:00:00 -0700", "17-Jul-1996 02:60:25 -0700",
        "17-Jul-1996 02:44:25 0700", "17-Jul-1996 02:44:25 -07000", "117-Jul-1996 02:44:25 -0700", "17-Jul-96 02:44:25 -0700",
        "17-Jul-1996T02:44:25 -0700", "17-Jul-1996 02:44:25 +1500", "x7-Jul-1996 02:44:25 -0700",
    ])
    func garbage(text: String) {
        #expect(IMAPDate.parseInternalDate(text) == nil)
    }

    @Test("SEARCH dates: English month, UTC day, no leading zero")
    func searchDate() {
        #expect(IMAPDate.searchDate(Date(timeIntervalSince1970: 0)) == "1-Jan-1970")
        #expect(IMAPDate.searchDate(Date(timeIntervalSince1970: 837_596_665)) == "17-Jul-1996")
        #expect(IMAPDate.searchDate(Date(timeIntervalSince1970: 1_709_251_199)) == "29-Feb-2024")
        #expect(IMAPDate.searchDate(Date(timeIntervalSince1970: 1_709_251_200)) == "1-Mar-2024")
        #expect(IMAPDate.searchDate(Date(timeIntervalSince1970: -1)) == "31-Dec-1969")
        // Every day of 2000–2030 round-trips through the INTERNALDATE parser.
        for day in 10_957..<22_280 {
            let date = Date(timeIntervalSince1970: TimeInterval(day * 86_400 + 3_723))
            #expect(IMAPDate.parseInternalDate(IMAPDate.searchDate(date) + " 01:02:03 +0000") == date)
        }
    }
}
