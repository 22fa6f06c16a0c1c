import Testing

@testable import MailSyncErrors

@Suite struct ParsingTests {
    @Test func imapTaggedLine() throws {
        let response = try #require(IMAPResponse(line: "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", phase: .authenticate))
        #expect(response.tag == "a1")
        #expect(response.status == .no)
        #expect(response.text == "[AUTHENTICATIONFAILED] Authentication failed.")
        #expect(response.responseCode == "AUTHENTICATIONFAILED")
    }

    @Test func imapUntaggedBye() throws {
        let response = try #require(IMAPResponse(line: "* BYE [ALERT] Too many simultaneous connections. (Failure)", phase: .greeting))
        #expect(response.tag == nil)
        #expect(response.status == .bye)
        #expect(MailErrorClassifier.classify(.imap(response)).rule == "gmail.tooManyConnections")
    }

    @Test func imapLowercaseStatusAndEmptyText() throws {
        let response = try #require(IMAPResponse(line: "x bad", phase: .fetch))
        #expect(response.status == .bad)
        #expect(response.text == "")
        #expect(response.responseCode == nil)
    }

    @Test(arguments: ["* OK IMAP4rev1 ready", "a1 OK done", "garbage", ""])
    func imapNonFailureIsNil(_ line: String) {
        #expect(IMAPResponse(line: line, phase: .fetch) == nil)
    }

    @Test func smtpMultiLine() throws {
        let reply = try #require(SMTPReply(reply: "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n550-5.4.5 sending limits go to\r\n550 5.4.5  https://support.google.com/a/answer/166852 abc - gsmtp\r\n"))
        #expect(reply.code == 550)
        #expect(reply.enhancedStatus == "5.4.5")
        #expect(reply.text == "Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852 abc - gsmtp")
    }

    @Test func smtpWithoutEnhancedStatus() throws {
        let reply = try #require(SMTPReply(reply: "421 Service not available"))
        #expect(reply.code == 421)
        #expect(reply.enhancedStatus == nil)
        #expect(reply.text == "Service not available")
    }

    @Test(arguments: ["", "OK", "5x0 nope"])
    func smtpGarbageIsNil(_ text: String) {
        #expect(SMTPReply(reply: text) == nil)
    }
}
