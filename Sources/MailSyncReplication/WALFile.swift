/// One frame of a WAL file: a page image, and for the last frame of a transaction the database's
/// size in pages after that commit.
public struct WALFrame: Hashable, Sendable {
    /// The page this frame holds (1-based).
    public var pageNumber: UInt32
    /// The database size in pages after the commit this frame ends, or 0 when it is not a commit.
    public var commitSize: UInt32
    /// Byte offset of the frame's header in the WAL file.
    public var offset: Int

    public var isCommit: Bool { commitSize != 0 }
}

/// What a scan of a WAL file found: the committed frames after a starting point, where they end,
/// and the cumulative checksum there (to resume the next scan without re-reading).
public struct WALScan: Sendable {
    public var header: WALHeader
    /// Every frame from the starting offset up to and including the last valid commit frame.
    public var frames: [WALFrame]
    /// The starting offset of the scan (``WALHeader/size`` for a whole file).
    public var start: Int
    /// Offset just past the last valid commit frame (`start` when there is none).
    public var end: Int
    /// The checksum chain's value at `end`.
    public var checksum: WALChecksum
    /// Offset just past the last frame that passed the checks, committed or not (≥ `end`): where
    /// the valid frames stop, as opposed to where the last whole transaction does.
    public var validEnd: Int
    /// Commit frames among `frames`.
    public var commitCount: Int { frames.reduce(0) { $0 + ($1.isCommit ? 1 : 0) } }
}

/// Reads a SQLite `-wal` file's bytes: validates the header, then each frame's salts and the
/// cumulative checksum, and keeps the frames up to the last valid COMMIT frame.
///
/// The bytes come from the disk and may be torn (a writer mid-frame), stale (frames left from an
/// earlier incarnation of the log, with other salts) or garbage: scanning stops at the first
/// frame that is short, has a page number of 0, other salts or a wrong checksum, and whatever
/// follows the last good commit is ignored. It never traps: offsets are checked before use.
public enum WALFile {
    /// Scans a whole file: `nil` when the header is missing or invalid (an empty or reset log).
    public static func scan(_ bytes: [UInt8]) -> WALScan? {
        guard let header = WALHeader(bytes) else { return nil }
        return scan(bytes, header: header, fileOffset: 0, from: WALHeader.size, checksum: header.checksum)
    }

    /// Scans frames in `bytes`, which hold the file from `fileOffset` on, starting at file offset
    /// `start` (a frame boundary) with the checksum chain's value there. Frames are checked
    /// against `header`'s salts and byte order.
    public static func scan(_ bytes: [UInt8], header: WALHeader, fileOffset: Int, from start: Int, checksum: WALChecksum) -> WALScan {
        var result = WALScan(header: header, frames: [], start: start, end: start, checksum: checksum, validEnd: start)
        guard start >= WALHeader.size, fileOffset >= 0, start >= fileOffset,
            (start - WALHeader.size) % header.frameSize == 0
        else { return result }
        bytes.withUnsafeBytes { raw in
            var position = start
            var running = checksum
            var pending: [WALFrame] = []
            while true {
                let (local, overflow) = position.subtractingReportingOverflow(fileOffset)
                guard !overflow, local >= 0, local <= raw.count, raw.count - local >= header.frameSize else { break }
                let frame = UnsafeRawBufferPointer(rebasing: raw[local..<(local + header.frameSize)])
                let pageNumber = BigEndian.uint32(frame, 0)
                let commitSize = BigEndian.uint32(frame, 4)
                guard pageNumber != 0, BigEndian.uint32(frame, 8) == header.salt1, BigEndian.uint32(frame, 12) == header.salt2 else { break }
                running.update(UnsafeRawBufferPointer(rebasing: frame[0..<8]), bigEndian: header.bigEndianChecksums)
                running.update(UnsafeRawBufferPointer(rebasing: frame[WALHeader.frameHeaderSize...]), bigEndian: header.bigEndianChecksums)
                guard running == WALChecksum(s1: BigEndian.uint32(frame, 16), s2: BigEndian.uint32(frame, 20)) else { break }
                pending.append(WALFrame(pageNumber: pageNumber, commitSize: commitSize, offset: position))
                position += header.frameSize
                result.validEnd = position
                if commitSize != 0 {
                    result.frames += pending
                    pending.removeAll(keepingCapacity: true)
                    result.end = position
                    result.checksum = running
                }
            }
        }
        return result
    }
}
