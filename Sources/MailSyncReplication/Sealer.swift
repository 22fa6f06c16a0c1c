import Foundation
import MailSyncObjectStore

/// Seals each object before it goes to the store and opens it after it comes back (client-side
/// encryption: AES-GCM with a backup key, written by the server; ``PassThroughSealer`` here).
///
/// `key` is the object's key, so an implementation can bind it as associated data (an object
/// moved to another key then fails to open). `open` must throw when the data was not sealed by
/// the same key material or was changed; the error's text is shown to the operator.
public protocol Sealer: Sendable {
    func seal(_ data: Data, key: ObjectKey) throws -> Data
    func open(_ data: Data, key: ObjectKey) throws -> Data
}

/// Stores objects as they are: no encryption. For tests and directories the operator trusts.
public struct PassThroughSealer: Sealer {
    public init() {}
    public func seal(_ data: Data, key: ObjectKey) throws -> Data { data }
    public func open(_ data: Data, key: ObjectKey) throws -> Data { data }
}
