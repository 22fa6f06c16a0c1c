import MailSyncIMAP
import Testing

@Suite("RFC2047")
struct RFC2047Tests {
    static let cases: [(String, String)] = [
        ("=?UTF-8?B?w7xiZXI=?=", "über"),
        ("=?utf-8?b?w7xiZXI?=", "über"),
        ("=?ISO-8859-1?Q?Caf=E9_au_lait?=", "Café au lait"),
        ("=?iso-8859-1?q?a=5Fb?=", "a_b"),
        ("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab"),
        ("=?ISO-8859-1?Q?a?=\r\n =?ISO-8859-1?Q?b?=", "ab"),
        ("=?UTF-8?Q?a?= b =?UTF-8?Q?c?=", "a b c"),
        ("Re: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Berlin", "Re: Grüße aus Berlin"),
        ("=?UTF-8?B?8J+Y?= =?UTF-8?B?gA==?=", "😀"),
        ("=?UTF-8?Q?a?= =?ISO-8859-1?Q?=E9?=", "aé"),
        ("=?windows-1252?Q?=80_price?=", "€ price"),
        ("=?UTF-8*en?Q?hello?=", "hello"),
        ("=?X-UNKNOWN?Q?abc?= tail", "=?X-UNKNOWN?Q?abc?= tail"),
        ("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="),
        ("=?UTF-8?B?!!!?=", "=?UTF-8?B?!!!?="),
        ("=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated"),
        ("=?UTF-8?Q?bad=ZZ?=", "bad=ZZ"),
        ("=?UTF-8?B?/w==?=", "\u{FFFD}"),
        ("plain text, no words", "plain text, no words"),
        ("1 + 1 =? 2", "1 + 1 =? 2"),
        ("", ""),
    ]

    @Test("decodes encoded words", arguments: cases)
    func decode(_ testCase: (String, String)) {
        #expect(RFC2047.decode(testCase.0) == testCase.1)
    }
}

@Suite("ModifiedUTF7")
struct ModifiedUTF7Tests {
    static let cases: [(String, String)] = [
        ("INBOX", "INBOX"),
        ("&-", "&"),
        ("Tom &- Jerry", "Tom & Jerry"),
        ("&AMk-l&AOk-ments envoy&AOk-s", "Éléments envoyés"),
        ("&ZeVnLIqe-", "日本語"),
        ("Entw&APw-rfe", "Entwürfe"),
        ("&2D3eAA-", "😀"),
        ("~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/台北/日本語"),
    ]

    @Test("decodes and round-trips", arguments: cases)
    func roundTrip(_ testCase: (String, String)) {
        #expect(ModifiedUTF7.decode(bytes(testCase.0)) == testCase.1)
        #expect(ModifiedUTF7.encode(testCase.1) == bytes(testCase.0))
    }

    @Test("rejects what is not modified UTF-7", arguments: ["&Jjo", "&Jjo!-", "B\u{FC}ro", "&2D0-", "&AMk"])
    func rejects(_ input: String) {
        #expect(ModifiedUTF7.decode(bytes(input)) == nil)
    }
}
