import Foundation
import MailSyncIMAP
import MailSyncMailTransport
import MailSyncMatching
import Testing

/// The fuzz target FuzzFetchData's inputs, replayed: every seed (`Fuzz/Corpus/FuzzFetchData/`) and
/// every kept crasher (`Fuzz/Crashers/FuzzFetchData/`) goes through what the sync does with
/// FETCH, SEARCH/ESEARCH and LIST data, as in `Fuzz/Sources/FuzzFetchData/` (docs/fuzzing.md).
@Suite("Fuzz regressions: FETCH, SEARCH and LIST data", .timeLimit(.minutes(5)))
struct FuzzRegressionTests {
    @Test("FuzzFetchData: every input is decoded and used without a trap; UIDs stay within the limit")
    func fetchData() throws {
        let inputs = try fuzzInputs("FuzzFetchData")
        #expect(inputs.count >= 10)
        let directory = CompanyDirectory(
            ownerAddresses: ["owner@example.com"], userAddresses: ["colleague@example.com"], domains: ["example.com"],
            preventInternalEmailSync: true)
        for (name, input) in inputs {
            var decoder = IMAPResponseDecoder()
            decoder.append(input)
            var responses: [IMAPResponse] = []
            while true {
                do {
                    guard let response = try decoder.next() else { break }
                    responses.append(response)
                } catch {
                    if error.code == .lineTooLong || error.code == .literalTooLarge { break }
                }
            }
            var listings: [MailboxListing] = []
            for case .untagged(let untagged) in responses {
                switch untagged {
                case .fetch(_, let attributes):
                    for attribute in attributes {
                        switch attribute {
                        case .envelope(let envelope):
                            _ = MailClassification.classify(envelope, inSentFolder: false, directory: directory)
                            _ = MessageKey.of(envelope)
                            _ = envelope.subjectText
                        case .internalDate(let text): _ = IMAPDate.parseInternalDate(text)
                        case .bodySection(_, _, let data?): _ = MailBodyText.extract(data)
                        default: break
                        }
                    }
                case .list(let listing):
                    listings.append(listing)
                default:
                    break
                }
            }
            _ = SyncFolders(choosingFrom: listings)
            if let uids = try? UIDSearchResults.collect(responses, after: UInt32(input.count % 7), limit: 100_000) {
                #expect(uids.count <= 100_000, "\(name)")
                #expect(zip(uids, uids.dropFirst()).allSatisfy { $0 < $1 }, "\(name): UIDs not ascending and distinct")
            }
        }
    }

    @Test("ESEARCH ALL 1:4294967295 is refused before four billion UIDs are expanded (fuzz crasher)")
    func esearchFlood() throws {
        let responses = try decodeAll("* ESEARCH (TAG \"a\") UID ALL 1:4294967295\r\n")
        #expect(throws: UIDSearchResults.TooManyUIDs(limit: UIDSearchResults.defaultLimit)) {
            try UIDSearchResults.collect(responses, after: 0)
        }
        // Clipped to UIDs after the one asked after: the same range is three UIDs after 4294967292.
        #expect(try UIDSearchResults.collect(responses, after: 4_294_967_292) == [4_294_967_293, 4_294_967_294, 4_294_967_295])
    }

    @Test("the UID limit counts distinct UIDs above afterUID, from SEARCH and ESEARCH alike")
    func limitCounting() throws {
        let responses = try decodeAll("* SEARCH 1 2 3 4 5 5 5\r\n* ESEARCH (TAG \"a\") UID ALL 4:6,2\r\n* ESEARCH (TAG \"b\") ALL 100:200\r\n")
        #expect(try UIDSearchResults.collect(responses, after: 0, limit: 6) == [1, 2, 3, 4, 5, 6])
        #expect(throws: UIDSearchResults.TooManyUIDs(limit: 5)) { try UIDSearchResults.collect(responses, after: 0, limit: 5) }
        #expect(try UIDSearchResults.collect(responses, after: 3, limit: 3) == [4, 5, 6])
        #expect(try UIDSearchResults.collect(responses, after: UInt32.max, limit: 0) == [])
    }

    private func decodeAll(_ text: String) throws -> [IMAPResponse] {
        var decoder = IMAPResponseDecoder()
        decoder.append(Array(text.utf8))
        var responses: [IMAPResponse] = []
        while let response = try decoder.next() { responses.append(response) }
        return responses
    }
}

/// The files of `Fuzz/Corpus/<target>/` and `Fuzz/Crashers/<target>/` (which may not exist), by name.
func fuzzInputs(_ target: String, file: String = #filePath) throws -> [(name: String, bytes: [UInt8])] {
    let root = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var inputs: [(name: String, bytes: [UInt8])] = []
    for folder in ["Corpus", "Crashers"] {
        let directory = root.appendingPathComponent("Fuzz/\(folder)/\(target)")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { continue }
        for name in names.sorted() where !name.hasPrefix(".") {
            inputs.append(("\(folder)/\(target)/\(name)", Array(try Data(contentsOf: directory.appendingPathComponent(name)))))
        }
    }
    return inputs
}
