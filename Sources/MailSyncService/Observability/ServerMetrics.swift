public import Prometheus

/// One server's Prometheus registry and the swift-metrics factory that fills it.
///
/// Each `MailSyncServer` has its own (tests run several in one process); `mailsync serve` also
/// bootstraps swift-metrics' global system with this factory, so libraries' metrics land in the
/// same registry. Histogram buckets: call durations 5 ms … 10 s (swift-prometheus' defaults);
/// sync lag 1 s … 30 days (a first sync records mail up to the backfill window old).
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[ServiceMetrics.lagLabel] = [
            .seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(900), .seconds(3_600),
            .seconds(6 * 3_600), .seconds(86_400), .seconds(7 * 86_400), .seconds(30 * 86_400),
        ]
        self.registry = registry
        self.factory = factory
    }

    /// Every metric in Prometheus' text exposition format (version 0.0.4).
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}
