import MailSyncIMAP

/// libFuzzer entry: the input as header text (invalid UTF-8 replaced, as the envelope accessors
/// do), through `RFC2047.decode`. Text without `=?` must come back unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let decoded = RFC2047.decode(text)
    if !text.contains("=?"), decoded != text {
        fatalError("RFC2047.decode changed text without an encoded word: \(text.debugDescription) -> \(decoded.debugDescription)")
    }
    return 0
}
