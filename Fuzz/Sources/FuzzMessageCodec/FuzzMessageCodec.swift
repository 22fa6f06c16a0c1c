import MailSyncCoding

/// The message codec (`WireReader` / `WireWriter` through the generated `init(from:)` and
/// `encode(to:)`) on arbitrary bytes. The first byte picks the message type (modulo the number of
/// types, so the fuzzer reaches every one by mutating it); the rest is the encoded message. A
/// message that decodes must survive a round trip: encoded and decoded again it is equal, and its
/// encoding is stable. `validate()` (the schema's bounds) runs on it and may throw, never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let selector = input.first else { return 0 }
    let type = messageTypes[Int(selector) % messageTypes.count]
    roundTrip(type, Array(input.dropFirst()))
    return 0
}

/// Decodes `bytes` as a `T`; when that succeeds, checks the round trip and runs `validate()`.
func roundTrip<T: Message>(_: T.Type, _ bytes: [UInt8]) {
    guard let message = try? T(serializedBytes: bytes) else { return }
    _ = try? message.validate()
    let encoded = message.serializedBytes()
    let again: T
    do {
        again = try T(serializedBytes: encoded)
    } catch {
        fatalError("\(T.self): the encoding of a decoded message does not decode: \(error)")
    }
    guard again == message else { fatalError("\(T.self): the round trip changed the message") }
    guard again.serializedBytes() == encoded else { fatalError("\(T.self): the encoding is not stable") }
}
