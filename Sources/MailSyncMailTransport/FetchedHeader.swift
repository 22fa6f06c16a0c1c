import Foundation
import MailSyncIMAP

/// One message's header data from `UID FETCH … (UID INTERNALDATE RFC822.SIZE ENVELOPE)`.
public struct FetchedHeader: Sendable, Hashable {
    public var uid: UInt32
    /// When the server received the message (INTERNALDATE); `nil` if it sent none or an
    /// unreadable one.
    public var internalDate: Date?
    /// RFC822.SIZE in bytes; 0 if the server sent none.
    public var size: UInt64
    public var envelope: Envelope

    public init(uid: UInt32, internalDate: Date?, size: UInt64, envelope: Envelope) {
        self.uid = uid
        self.internalDate = internalDate
        self.size = size
        self.envelope = envelope
    }
}
