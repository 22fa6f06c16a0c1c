/// Where shipping stands in a database's WAL: which incarnation of the log (its header; `nil`
/// when there was no log at the generation's start), its index within the generation (0 for the
/// log the snapshot was taken in, +1 at every restart), and the offset and checksum just past the
/// last frame read.
struct WALPosition: Sendable, Equatable {
    var header: WALHeader?
    var walIndex: UInt32
    var end: Int
    var checksum: WALChecksum

    /// The start of a log whose header is not yet known.
    static let empty = WALPosition(header: nil, walIndex: 0, end: WALHeader.size, checksum: WALChecksum())
}

/// Committed frames read from the WAL past a ``WALPosition``: the raw bytes of the frames (whole
/// transactions only) and the position after them.
struct WALTail: Sendable {
    /// The log's index within the generation the frames belong to.
    var walIndex: UInt32
    /// File offset of the first frame.
    var offset: Int
    /// The frames' bytes, headers included; empty when nothing new was committed.
    var frames: [UInt8]
    var frameCount: Int
    var pageSize: Int
    /// Where the next read starts.
    var next: WALPosition
    /// Whether the read reached the end of the log's valid frames (`false` when it stopped at its
    /// size limit with more committed frames after it).
    var isComplete: Bool
}
