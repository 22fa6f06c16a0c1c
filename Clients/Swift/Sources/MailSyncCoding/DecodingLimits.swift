/// Bounds applied while decoding untrusted bytes.
public struct DecodingLimits: Sendable, Hashable {
    /// How deeply messages may nest inside each other. Default 64; the top-level message is depth 1.
    public var maxDepth: Int

    public init(maxDepth: Int = 64) {
        self.maxDepth = maxDepth
    }

    /// Depth 64.
    public static let `default` = DecodingLimits()
}
