/// What one ``WALShipper/shipOnce()`` did.
public struct ShipReport: Sendable, Equatable {
    /// The generation shipped to.
    public var generation: String = ""
    /// Whether this ship started a new generation (uploaded a snapshot).
    public var startedGeneration = false
    /// Segments uploaded (0 when nothing was committed since the last ship).
    public var segments = 0
    /// Bytes of segments uploaded (compressed, before sealing).
    public var segmentBytes = 0
    /// Whether a checkpoint copied every frame of the log into the database, so the next write
    /// restarts the log.
    public var checkpointed = false
    /// The log's index within the generation and the offset shipped up to.
    public var walIndex: UInt32 = 0
    public var walOffset = 0

    public init() {}
}
