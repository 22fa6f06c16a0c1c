import MailSyncStorage

/// Settings of a ``WALShipper``.
public struct WALShipperOptions: Sendable {
    /// Once the current log holds this many bytes of committed frames, each ship ends with a
    /// checkpoint of what was shipped, so the log restarts from its beginning. Default 4 MiB.
    public var checkpointThresholdBytes: Int = 4 << 20
    /// A new generation (a fresh snapshot) is started when the current one's snapshot is this old.
    /// Default 24 hours.
    public var snapshotInterval: Duration = .seconds(24 * 3600)
    /// How long the shipper waits for a writer's transaction to end when it must hold writers
    /// still (to start a generation, or to finish a checkpoint). Default 2 s; on timeout the
    /// checkpoint is skipped until the next ship and a generation start throws `.busy`. Writers
    /// wait for the shipper in turn for at most a read of the log's newest frames and a passive
    /// checkpoint of them (no network); keep the server's busy timeout (5 s) above both.
    public var lockTimeout: Duration = .seconds(2)
    /// The most frames (in bytes) read while writers are held still; when writers added more
    /// since the previous read, the checkpoint is put off to a later ship. Default 1 MiB.
    public var pauseReadLimitBytes: Int = 1 << 20
    /// The most frames (in bytes) one segment holds, unless one transaction is larger; a ship that
    /// finds more uploads several segments. Default 16 MiB.
    public var segmentLimitBytes: Int = 16 << 20

    public init() {}
}

extension SQLiteConnection.Options {
    /// Settings every connection to a shipped database must use: no automatic checkpoints
    /// (`wal_autocheckpoint=0`) and no checkpoint on close, so that only the ``WALShipper``
    /// checkpoints, and only frames it has shipped. A connection without them could copy
    /// unshipped frames into the database file and let the log restart over them; the shipper
    /// would then see a log it cannot continue and start a new generation (a full snapshot).
    public mutating func prepareForWALShipping() {
        walAutocheckpointPages = 0
        checkpointOnClose = false
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
