import MailSyncIMAP
import MailSyncMailTransport
import MailSyncMatching

/// libFuzzer entry: the input as bytes from an IMAP server, decoded with `IMAPResponseDecoder`,
/// and every response put through what the sync does with it:
/// - FETCH: the envelope classified for a company (participants, message key, direction), its
///   subject and names decoded, INTERNALDATE read; body sections' text extracted;
/// - SEARCH / ESEARCH: the UIDs collected as `uidSearch` does (with a limit of 100,000);
/// - LIST: folder names decoded and the folders to sync chosen.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var decoder = IMAPResponseDecoder()
    decoder.append(UnsafeBufferPointer(start: data, count: size))
    var responses: [IMAPResponse] = []
    var listings: [MailboxListing] = []
    for _ in 0..<100_000 {
        do {
            guard let response = try decoder.next() else { break }
            responses.append(response)
            use(response, listings: &listings)
        } catch {
            if error.code == .lineTooLong || error.code == .literalTooLarge { break }
        }
    }
    // A lower limit than the default keeps inputs that reach it fast; the bound is what is tested.
    if let uids = try? UIDSearchResults.collect(responses, after: UInt32(size % 7), limit: 100_000) {
        precondition(uids.count <= 100_000, "more UIDs than the limit")
        precondition(zip(uids, uids.dropFirst()).allSatisfy { $0 < $1 }, "UIDs not ascending and distinct")
    }
    _ = SyncFolders(choosingFrom: listings)
    return 0
}

private let directory = CompanyDirectory(
    ownerAddresses: ["owner@example.com"], userAddresses: ["colleague@example.com"], domains: ["example.com"],
    preventInternalEmailSync: true)

private func use(_ response: IMAPResponse, listings: inout [MailboxListing]) {
    switch response {
    case .untagged(.fetch(_, let attributes)):
        for attribute in attributes {
            switch attribute {
            case .envelope(let envelope):
                _ = MailClassification.classify(envelope, inSentFolder: false, directory: directory)
                _ = MessageKey.of(envelope)
                _ = envelope.subjectText
                for address in envelope.from + envelope.to + envelope.cc { _ = address.nameText }
            case .internalDate(let text):
                _ = IMAPDate.parseInternalDate(text)
            case .bodySection(_, _, let data?):
                _ = MailBodyText.extract(data)
            default:
                break
            }
        }
    case .untagged(.list(let listing)):
        _ = IMAPFolder(listing)
        listings.append(listing)
    default:
        break
    }
}
