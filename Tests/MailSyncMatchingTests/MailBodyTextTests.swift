import MailSyncMatching
import Testing

@Suite("The text of a message")
struct MailBodyTextTests {
    @Test("a plain single-part message gives its body")
    func plain() {
        let raw = "From: a@b.c\r\nSubject: x\r\n\r\nHello there.\r\nBye.\r\n"
        #expect(MailBodyText.extract(Array(raw.utf8)) == "Hello there.\r\nBye.\r\n")
    }

    @Test("quoted-printable in ISO-8859-1 is decoded, soft line breaks joined")
    func quotedPrintable() {
        let raw = "Content-Type: text/plain; charset=\"ISO-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe aus K=F6ln, ein sehr lan=\r\nger Satz.\r\n"
        #expect(MailBodyText.extract(Array(raw.utf8)) == "Grüße aus Köln, ein sehr langer Satz.\r\n")
    }

    @Test("multipart/alternative prefers text/plain, in base64, over HTML; attachments are ignored")
    func multipart() {
        let raw = """
            Content-Type: multipart/mixed; boundary="outer"\r
            \r
            preamble\r
            --outer\r
            Content-Type: multipart/alternative; boundary=inner\r
            \r
            --inner\r
            Content-Type: text/html; charset=utf-8\r
            \r
            <p>Hi <b>there</b></p>\r
            --inner\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: base64\r
            \r
            SGkgdGhlcmUg4oCUIOKCrDEw\r
            --inner--\r
            --outer\r
            Content-Type: text/plain\r
            Content-Disposition: attachment; filename=notes.txt\r
            \r
            secret attachment\r
            --outer--\r
            """
        #expect(MailBodyText.extract(Array(raw.utf8)) == "Hi there — €10")
    }

    @Test("HTML only: tags removed, entities decoded")
    func htmlOnly() {
        let raw = "Content-Type: text/html\r\n\r\n<div>Price &lt; 5&nbsp;&amp; more</div><br>End"
        #expect(MailBodyText.extract(Array(raw.utf8)) == "Price < 5 & more\n\nEnd")
    }

    @Test("garbage never crashes: a boundary that never comes, deep nesting, binary bytes")
    func hostile() {
        let nested = String(repeating: "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n", count: 40)
        _ = MailBodyText.extract(Array(nested.utf8))
        _ = MailBodyText.extract([0xFF, 0xFE, 0x00, 0x0A, 0x0D, 0x0A, 0x80])
        _ = MailBodyText.extract(Array("Content-Type: multipart/mixed; boundary=zz\r\n\r\nno parts here".utf8))
        _ = MailBodyText.extract(Array("Content-Transfer-Encoding: quoted-printable\r\n\r\n=\r=4".utf8))
    }
}
