public import CoreMetrics

/// Counts and times every call the ``Router`` finishes, through swift-metrics (whatever factory
/// it is given: Prometheus in the server, nothing by default).
///
/// - `mailsync_rpc_calls_total{method, code}`: a counter per method and final status code
///   (`ok`, `not_found`, …, the ``StatusCode`` name in snake case).
/// - `mailsync_rpc_call_duration_seconds{method, code}`: a timer (a histogram in Prometheus) from
///   the router receiving the call to its final status, handler included.
///
/// The `method` label is the method's full name for served methods and `unknown` for anything
/// else, so a client sending made-up names cannot grow the label set without bound.
public struct CallMetrics: Sendable {
    public static let callsLabel = "mailsync_rpc_calls_total"
    public static let durationLabel = "mailsync_rpc_call_duration_seconds"
    /// The `method` label of calls naming no served method.
    public static let unknownMethod = "unknown"

    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Records one finished call.
    public func record(method: String, code: StatusCode, duration: Duration) {
        let dimensions = [("method", method), ("code", Self.label(code))]
        Counter(label: Self.callsLabel, dimensions: dimensions, factory: factory).increment()
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
        Timer(label: Self.durationLabel, dimensions: dimensions, factory: factory).recordNanoseconds(nanoseconds)
    }

    /// A status code as a label value: `ok`, `deadline_exceeded`, … (`code_17` for codes this
    /// build does not know).
    public static func label(_ code: StatusCode) -> String {
        Int(code.rawValue) < labels.count ? labels[Int(code.rawValue)] : "code_\(code.rawValue)"
    }

    private static let labels = StatusCode.all.map { "\($0)".replacingSpaces() }
}

extension String {
    fileprivate func replacingSpaces() -> String {
        String(map { $0 == " " ? "_" : $0 })
    }
}
