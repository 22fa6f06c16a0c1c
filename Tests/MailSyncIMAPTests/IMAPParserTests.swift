import MailSyncIMAP
import Testing

@Suite("IMAPParser")
struct IMAPParserTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var input: [UInt8]
        var expected: IMAPResponse
        var testDescription: String { String(decoding: input.prefix(60), as: UTF8.self) }
        init(_ input: String, _ expected: IMAPResponse) {
            self.input = bytes(input)
            self.expected = expected
        }
        init(bytes input: [UInt8], _ expected: IMAPResponse) {
            self.input = input
            self.expected = expected
        }
    }

    static func ok(_ code: ResponseCode? = nil, _ text: String) -> IMAPResponse {
        .untagged(.status(StatusResponse(condition: .ok, code: code, text: text)))
    }

    static let statusCases: [Case] = [
        Case("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot (Debian) ready.\r\n",
             ok(.capability(["IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "AUTH=PLAIN"]), "Dovecot (Debian) ready.")),
        Case("* OK Gimap ready for requests from 192.0.2.1 q1mb12345678abc\r\n", ok(nil, "Gimap ready for requests from 192.0.2.1 q1mb12345678abc")),
        Case("* OK [UIDVALIDITY 1700000000] UIDs valid\r\n", ok(.uidValidity(1_700_000_000), "UIDs valid")),
        Case("* OK [UIDNEXT 4392] Predicted next UID\r\n", ok(.uidNext(4392), "Predicted next UID")),
        Case("* OK [UNSEEN 12] First unseen.\r\n", ok(.unseen(12), "First unseen.")),
        Case("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted.\r\n",
             ok(.permanentFlags(["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "$Forwarded", "\\*"]), "Flags permitted.")),
        Case("* OK [HIGHESTMODSEQ 90060115205545359] Highest\r\n", ok(.other(name: "HIGHESTMODSEQ", arguments: "90060115205545359"), "Highest")),
        Case("* OK [UIDVALIDITY banana] odd server\r\n", ok(.other(name: "UIDVALIDITY", arguments: "banana"), "odd server")),
        Case("* OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n", ok(.readWrite, "Select completed (0.001 + 0.000 secs).")),
        Case("* OK [ALERT] Your account will be suspended\r\n", ok(.alert, "Your account will be suspended")),
        Case("* OK [Unclosed code text\r\n", ok(nil, "[Unclosed code text")),
        Case("* OK\r\n", ok(nil, "")),
        Case("* NO [ALERT] Mailbox is over quota  \r\n",
             .untagged(.status(StatusResponse(condition: .no, code: .alert, text: "Mailbox is over quota  ")))),
        Case("* BYE Logging out\r\n", .untagged(.status(StatusResponse(condition: .bye, text: "Logging out")))),
        Case("* BYE Disconnected for inactivity.\r\n", .untagged(.status(StatusResponse(condition: .bye, text: "Disconnected for inactivity.")))),
        Case("* PREAUTH [CAPABILITY IMAP4rev1] Logged in as alice\r\n",
             .untagged(.status(StatusResponse(condition: .preauth, code: .capability(["IMAP4rev1"]), text: "Logged in as alice")))),
        Case("a1 OK [READ-ONLY] Examine completed (0.001 + 0.000 secs).\r\n",
             .tagged(tag: "a1", status: StatusResponse(condition: .ok, code: .readOnly, text: "Examine completed (0.001 + 0.000 secs)."))),
        Case("a2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
             .tagged(tag: "a2", status: StatusResponse(condition: .no, code: .authenticationFailed, text: "Authentication failed."))),
        Case("A0003 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n",
             .tagged(tag: "A0003", status: StatusResponse(condition: .no, code: .authenticationFailed, text: "Invalid credentials (Failure)"))),
        Case("a3 NO [TRYCREATE] Mailbox doesn't exist: Sent\r\n",
             .tagged(tag: "a3", status: StatusResponse(condition: .no, code: .tryCreate, text: "Mailbox doesn't exist: Sent"))),
        Case("a4 BAD Error in IMAP command UID FETCH: Invalid uidset (0.001 + 0.000 secs).\r\n",
             .tagged(tag: "a4", status: StatusResponse(condition: .bad, text: "Error in IMAP command UID FETCH: Invalid uidset (0.001 + 0.000 secs)."))),
        Case("a5 ok done\r\n", .tagged(tag: "a5", status: StatusResponse(condition: .ok, text: "done"))),
        Case("a6 NO [SERVERBUG] Internal error occurred. Refer to server log for more information. [2024-01-01 10:00:00]\r\n",
             .tagged(tag: "a6", status: StatusResponse(condition: .no, code: .other(name: "SERVERBUG", arguments: nil),
                                                      text: "Internal error occurred. Refer to server log for more information. [2024-01-01 10:00:00]"))),
        Case(bytes: bytes("a7 NO Ung") + [0xC3, 0xBC, 0xFF] + bytes("ltig\r\n"),
             .tagged(tag: "a7", status: StatusResponse(condition: .no, text: "Ungü\u{FFFD}ltig"))),
        Case("+ idling\r\n", .continuation("idling")),
        Case("+ \r\n", .continuation("")),
        Case("+\r\n", .continuation("")),
        Case("+ dXNlcj1hbGljZQ==\r\n", .continuation("dXNlcj1hbGljZQ==")),
    ]

    @Test("status responses, codes and continuations", arguments: statusCases)
    func status(_ testCase: Case) throws {
        #expect(try parse(testCase.input) == testCase.expected)
    }

    static let dataCases: [Case] = [
        Case("* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584\r\n",
             .untagged(.capability(["IMAP4rev1", "UNSELECT", "IDLE", "NAMESPACE", "QUOTA", "ID", "XLIST", "CHILDREN", "X-GM-EXT-1", "UIDPLUS",
                                    "COMPRESS=DEFLATE", "ENABLE", "MOVE", "CONDSTORE", "ESEARCH", "UTF8=ACCEPT", "LIST-EXTENDED", "LIST-STATUS",
                                    "LITERAL-", "SPECIAL-USE", "APPENDLIMIT=35651584"]))),
        Case("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n", .untagged(.flags(["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"]))),
        Case("* 172 EXISTS\r\n", .untagged(.exists(172))),
        Case("* 0 RECENT\r\n", .untagged(.recent(0))),
        Case("* 44 EXPUNGE\r\n", .untagged(.expunge(44))),
        Case("* SEARCH 2 84 882\r\n", .untagged(.search([2, 84, 882]))),
        Case("* SEARCH\r\n", .untagged(.search([]))),
        Case("* SEARCH \r\n", .untagged(.search([]))),
        Case("* SEARCH 2 5 (MODSEQ 917162500)\r\n", .untagged(.search([2, 5]))),
        Case("* ESEARCH (TAG \"a7\") UID MIN 2 MAX 9 COUNT 4 ALL 2:4,9\r\n",
             .untagged(.esearch(ESearchResponse(tag: "a7", isUID: true, min: 2, max: 9, count: 4, all: [2...4, 9...9])))),
        Case("* ESEARCH (TAG \"a8\") UID\r\n", .untagged(.esearch(ESearchResponse(tag: "a8", isUID: true)))),
        Case("* ESEARCH (TAG \"a9\") COUNT 0\r\n", .untagged(.esearch(ESearchResponse(tag: "a9", count: 0)))),
        Case("* STATUS INBOX (MESSAGES 231 UIDNEXT 44292)\r\n", .untagged(.other(keyword: "STATUS", text: "INBOX (MESSAGES 231 UIDNEXT 44292)"))),
        Case("* ENABLED CONDSTORE\r\n", .untagged(.other(keyword: "ENABLED", text: "CONDSTORE"))),
        Case("* 3 XWEIRD stuff\r\n", .untagged(.other(keyword: "XWEIRD", text: "3 XWEIRD stuff"))),
    ]

    @Test("untagged data", arguments: dataCases)
    func data(_ testCase: Case) throws {
        #expect(try parse(testCase.input) == testCase.expected)
    }

    struct ListCase: Sendable, CustomTestStringConvertible {
        var input: String
        var attributes: [String]
        var delimiter: Character?
        var name: String
        var specialUse: MailboxListing.SpecialUse?
        var testDescription: String { input }
    }

    static let listCases: [ListCase] = [
        ListCase(input: "* LIST (\\HasNoChildren) \"/\" INBOX\r\n", attributes: ["\\HasNoChildren"], delimiter: "/", name: "INBOX"),
        ListCase(input: "* LIST (\\HasNoChildren \\Sent) \".\" Sent\r\n", attributes: ["\\HasNoChildren", "\\Sent"], delimiter: ".", name: "Sent", specialUse: .sent),
        ListCase(input: "* LIST (\\HasNoChildren \\Sent) \"/\" \"[Gmail]/Sent Mail\"\r\n", attributes: ["\\HasNoChildren", "\\Sent"], delimiter: "/", name: "[Gmail]/Sent Mail", specialUse: .sent),
        ListCase(input: "* LIST (\\All \\HasNoChildren) \"/\" \"[Gmail]/All Mail\"\r\n", attributes: ["\\All", "\\HasNoChildren"], delimiter: "/", name: "[Gmail]/All Mail", specialUse: .all),
        ListCase(input: "* LIST (\\HasChildren \\Noselect) \"/\" \"[Gmail]\"\r\n", attributes: ["\\HasChildren", "\\Noselect"], delimiter: "/", name: "[Gmail]"),
        ListCase(input: "* LIST (\\HasNoChildren \\sent) \"/\" \"Gesendete Objekte\"\r\n", attributes: ["\\HasNoChildren", "\\sent"], delimiter: "/", name: "Gesendete Objekte", specialUse: .sent),
        ListCase(input: "* LIST (\\HasNoChildren \\Drafts) \"/\" &AMk-l&AOk-ments\r\n", attributes: ["\\HasNoChildren", "\\Drafts"], delimiter: "/", name: "Éléments", specialUse: .drafts),
        ListCase(input: "* LIST () \"/\" \"&ZeVnLIqe-\"\r\n", attributes: [], delimiter: "/", name: "日本語"),
        ListCase(input: "* LIST (\\Noselect) NIL \"\"\r\n", attributes: ["\\Noselect"], delimiter: nil, name: ""),
        ListCase(input: "* LIST () \"\\\\\" \"Folder\\\\Sub\"\r\n", attributes: [], delimiter: "\\", name: "Folder\\Sub"),
        ListCase(input: "* LIST () \"/\" {11}\r\nTom & Jerry\r\n", attributes: [], delimiter: "/", name: "Tom & Jerry"),
        ListCase(input: "* LIST (\\Subscribed) \"/\" \"Projekte/Büro\"\r\n", attributes: ["\\Subscribed"], delimiter: "/", name: "Projekte/Büro"),
        ListCase(input: "* LIST (\\HasChildren) \"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n", attributes: ["\\HasChildren"], delimiter: "/", name: "Foo"),
        ListCase(input: "* LSUB () \".\" Archive.2023\r\n", attributes: [], delimiter: ".", name: "Archive.2023"),
    ]

    @Test("LIST and LSUB", arguments: listCases)
    func list(_ testCase: ListCase) throws {
        guard case .untagged(.list(let listing)) = try parse(testCase.input) else {
            Issue.record("not a LIST")
            return
        }
        #expect(listing.attributes == testCase.attributes)
        #expect(listing.delimiter == testCase.delimiter)
        #expect(listing.name == testCase.name)
        #expect(listing.specialUse == testCase.specialUse)
        #expect(listing.isSubscription == testCase.input.hasPrefix("* LSUB"))
    }
}
