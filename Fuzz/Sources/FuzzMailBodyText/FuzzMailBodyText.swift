import MailSyncMatching

/// libFuzzer entry: the input as a raw RFC 5322 message through `MailBodyText.extract`.
///
/// Besides not trapping, the text must stay proportional to the message: no charset or transfer
/// decoding turns one byte into more than 3 UTF-8 bytes (a replaced invalid byte, U+FFFD).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = Array(UnsafeBufferPointer(start: data, count: size))
    let text = MailBodyText.extract(raw)
    let produced = text.utf8.count
    if produced > 3 * size + 16 {
        fatalError("MailBodyText.extract made \(produced) bytes of text from a \(size)-byte message")
    }
    return 0
}
