#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// `localizedDescription` and `errorDescription` read like `description`: "not found: Mailbox 123
/// does not exist" (the status in words, then the server's message), not Foundation's generic
/// "The operation could not be completed".
extension RPCError: LocalizedError {
    public var errorDescription: String? { description }
}
