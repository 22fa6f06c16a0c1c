import MailSyncMailTransport
import Testing

@Suite("IMAPAddressSearch: retro-match's search keys from caller addresses", .timeLimit(.minutes(1)))
struct IMAPAddressSearchTests {
    @Test("one address: FROM, TO, CC and BCC, quoted")
    func oneAddress() {
        #expect(IMAPAddressSearch.key("ann@x.example") == #"OR OR FROM "ann@x.example" TO "ann@x.example" OR CC "ann@x.example" BCC "ann@x.example""#)
        let both = IMAPAddressSearch.criteria(["a@x.example", "b@y.example"])
        #expect(both?.count == 2)
        #expect(both?.text == "OR " + IMAPAddressSearch.key("a@x.example")! + " " + IMAPAddressSearch.key("b@y.example")!)
        #expect(IMAPAddressSearch.criteria([]) == nil)
    }

    @Test("anything that could end the line, close the string or need a literal is refused, never sent",
          arguments: ["a\r\nA1 DELETE INBOX@x.example", "a\"@x.example", "a\\@x.example", "j\u{F6}rg@x.example", "a b@x.example",
                      "a\u{0}@x.example", "a\t@x.example", "", String(repeating: "a", count: 250) + "@x.example"])
    func refused(_ address: String) {
        #expect(!IMAPAddressSearch.isSearchable(address))
        #expect(IMAPAddressSearch.key(address) == nil)
        #expect(IMAPAddressSearch.criteria([address]) == nil)
    }

    @Test("a search's keys stay within the length bound: the addresses that do not fit are left for the next search")
    func lengthBound() throws {
        let addresses = (0..<100).map { "someone-with-a-long-name-\($0)@a-rather-long-domain-name.example" }
        let first = try #require(IMAPAddressSearch.criteria(addresses))
        #expect(first.text.utf8.count <= IMAPAddressSearch.defaultMaxLength)
        #expect(first.count > 1 && first.count < 100)
        #expect(first.text.hasPrefix(String(repeating: "OR ", count: first.count - 1) + "OR OR FROM"))
        // A single address longer than the bound is still searched alone.
        #expect(IMAPAddressSearch.criteria(addresses, maxLength: 10)?.count == 1)
    }
}
