#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import MailSyncRPC
import MailSyncTransport
import NIOCore
import NIOPosix

/// `make bench`: unary round trips through `RPCServer` + `TCPClientTransport` + `RPCClient` ("ours")
/// against a raw NIO echo of the same bytes ("floor"), both on 127.0.0.1 in this process. See
/// docs/benchmarks.md for what is measured and why.
///
/// Options: `--duration SECONDS` per throughput case (default 3), `--quick` (short run for a smoke
/// test: fewer calls, 0.5 s per throughput case).
@main
enum MailSyncBenchmarks {
    struct Options {
        var duration: Duration = .seconds(3)
        var warmup: Duration = .milliseconds(500)
        var connections = 4
        var callersPerConnection = 32
        var latencyCalls = [16: 2_000, 65_536: 500]
        var latencyWarmup = [16: 500, 65_536: 100]
        /// For profiling one side: `--only ours` or `--only floor`.
        var only: Side?
        var sizes: Set<Int> = [16, 65_536]
        /// Run handlers on the connections' event loops (`ServerConfiguration.runsHandlersOnEventLoop`).
        var handlersOnEventLoop = false
        /// Latency only (for counting syscalls per call with strace).
        var skipThroughput = false

        enum Side: String { case floor, ours }

        static func parse(_ arguments: [String]) -> Options {
            var options = Options()
            var rest = arguments[...]
            while let argument = rest.popFirst() {
                switch argument {
                case "--quick":
                    options.duration = .milliseconds(500)
                    options.warmup = .milliseconds(100)
                    options.latencyCalls = [16: 300, 65_536: 100]
                    options.latencyWarmup = [16: 50, 65_536: 20]
                case "--duration":
                    guard let value = rest.popFirst().flatMap(Double.init), value > 0, value <= 60 else {
                        fail("--duration takes a number of seconds, above 0 and at most 60")
                    }
                    options.duration = .milliseconds(Int64(value * 1000))
                case "--only":
                    guard let side = rest.popFirst().flatMap(Side.init(rawValue:)) else { fail("--only takes floor or ours") }
                    options.only = side
                case "--size":
                    switch rest.popFirst() {
                    case "small": options.sizes = [16]
                    case "large": options.sizes = [65_536]
                    default: fail("--size takes small or large")
                    }
                case "--handlers-on-event-loop":
                    options.handlersOnEventLoop = true
                case "--latency-only":
                    options.skipThroughput = true
                case "-h", "--help":
                    print("usage: MailSyncBenchmarks [--quick] [--duration SECONDS] [--only floor|ours] [--size small|large] [--latency-only] [--handlers-on-event-loop]")
                    exit(0)
                default:
                    fail("unknown argument '\(argument)'; try --help")
                }
            }
            return options
        }
    }

    struct CaseResult {
        var name: String
        var wireBytes: (request: Int, response: Int)
        var floorLatency: LatencySamples?
        var oursLatency: LatencySamples?
        var floorThroughput: Throughput?
        var oursThroughput: Throughput?
    }

    static func main() async throws {
        try await run(options: Options.parse(Array(CommandLine.arguments.dropFirst())))
    }

    /// Off the main actor, so calls are made from the global concurrent executor, as a server's or
    /// an app's tasks would be.
    nonisolated static func run(options: Options) async throws {
        let cores = System.coreCount
        let group = MultiThreadedEventLoopGroup.singleton
        #if DEBUG
        let configuration = "debug (numbers are not meaningful; use `make bench`)"
        #else
        let configuration = "release"
        #endif
        print("Mail Sync benchmarks — \(utcNow())\(options.handlersOnEventLoop ? " — handlers on the event loops" : "")")
        print("cores: \(cores); event loops: \(cores) (MultiThreadedEventLoopGroup.singleton); build: \(configuration)")
        print("load average (1 min) at the start: \(loadAverage())")
        print("loopback 127.0.0.1, ephemeral ports; throughput: \(options.connections) connections × \(options.callersPerConnection) callers, \(format(options.duration.secondsDouble, 1)) s per case")
        print("")

        var results: [CaseResult] = []
        for (name, size) in [("small (16 B)", 16), ("large (64 KiB)", 65_536)] where options.sizes.contains(size) {
            let shape = CallShape(payloadSize: size)
            print("\(name): \(shape.request.readableBytes) B out, \(shape.response.readableBytes) B back per call")
            let floor = options.only == .ours ? nil : try await runFloor(shape, options, cores: cores, group: group)
            let ours = options.only == .floor ? nil : try await runOurs(shape, options, cores: cores, group: group)
            results.append(CaseResult(
                name: name, wireBytes: (shape.request.readableBytes, shape.response.readableBytes),
                floorLatency: floor?.latency, oursLatency: ours?.latency,
                floorThroughput: floor?.throughput, oursThroughput: ours?.throughput))
        }

        print("")
        printTable(results, cores: cores)
        print("load average (1 min) at the end: \(loadAverage())")
    }

    /// The raw NIO echo: latency on one connection, then throughput on all of them.
    static func runFloor(
        _ shape: CallShape, _ options: Options, cores: Int, group: any EventLoopGroup
    ) async throws -> (latency: LatencySamples, throughput: Throughput?) {
        let size = shape.payloadSize
        let server = try await Floor.Server.start(shape: shape, group: group)
        var connected: [Floor.Client] = []
        for _ in 0..<options.connections {
            connected.append(try await Floor.Client.connect(port: server.port, shape: shape, group: group))
        }
        let clients = connected
        let latency = try await measureLatency(
            warmup: options.latencyWarmup[size]!, count: options.latencyCalls[size]!
        ) { try await clients[0].call() }
        let throughput = options.skipThroughput ? nil : try await measureThroughput(
            connections: options.connections, callersPerConnection: options.callersPerConnection,
            warmup: options.warmup, duration: options.duration, cores: cores
        ) { connection in try await clients[connection].call() }
        print("  floor: done (system CPU busy during throughput: \(cell(throughput) { format($0.systemBusy * 100, 0) })%)")
        for client in clients { await client.close() }
        await server.stop()
        return (latency, throughput)
    }

    /// `RPCServer` + `TCPClientTransport` + `RPCClient.unary`, one transport (connection) per
    /// connection slot.
    static func runOurs(
        _ shape: CallShape, _ options: Options, cores: Int, group: any EventLoopGroup
    ) async throws -> (latency: LatencySamples, throughput: Throughput?) {
        let size = shape.payloadSize
        var logger = Logger(label: "bench.server")
        logger.logLevel = .warning
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, shutdownGracePeriod: .seconds(2))
        configuration.runsHandlersOnEventLoop = options.handlersOnEventLoop
        let server = RPCServer(
            configuration: configuration,
            router: Router(methods: BenchService.methods, authenticator: nil), logger: logger, group: group)
        let port = try await server.start().port!
        let transports = (0..<options.connections).map { _ in
            TCPClientTransport(host: "127.0.0.1", port: port, group: group)
        }
        let clients = transports.map { RPCClient(transport: $0) }
        let request = BenchMessage(payload: [UInt8](repeating: 0xA5, count: size))
        @Sendable func call(_ connection: Int) async throws {
            let response: BenchMessage = try await clients[connection].unary(BenchService.echo, request)
            guard response.payload.count == size else {
                throw RPCError(.internal, "echo returned \(response.payload.count) bytes, expected \(size)")
            }
        }
        let latency = try await measureLatency(
            warmup: options.latencyWarmup[size]!, count: options.latencyCalls[size]!
        ) { try await call(0) }
        let throughput = options.skipThroughput ? nil : try await measureThroughput(
            connections: options.connections, callersPerConnection: options.callersPerConnection,
            warmup: options.warmup, duration: options.duration, cores: cores, call: call)
        print("  ours: done (system CPU busy during throughput: \(cell(throughput) { format($0.systemBusy * 100, 0) })%)")
        for transport in transports { transport.close() }
        await server.shutdownGracefully()
        return (latency, throughput)
    }

    static func printTable(_ results: [CaseResult], cores: Int) {
        var rows: [[String]] = [["case", "floor", "ours", "ours/floor"]]
        func micros(_ ns: Double) -> String { format(ns / 1000, 1) + " µs" }
        func ratio(_ ours: Double?, _ floor: Double?) -> String {
            guard let ours, let floor else { return "-" }
            return format(ours / floor, 2) + "x"
        }
        for result in results {
            let f = result.floorLatency, o = result.oursLatency
            for (label, p) in [("p50", 50.0), ("p99", 99.0)] {
                rows.append(["\(result.name) latency \(label)", cell(f) { micros($0.percentile(p)) },
                             cell(o) { micros($0.percentile(p)) }, ratio(o?.percentile(p), f?.percentile(p))])
            }
            rows.append(["\(result.name) latency mean", cell(f) { micros($0.mean) }, cell(o) { micros($0.mean) },
                         ratio(o?.mean, f?.mean)])
            let ft = result.floorThroughput, ot = result.oursThroughput
            rows.append(["\(result.name) throughput", cell(ft) { format($0.callsPerSecond, 0) + " calls/s" },
                         cell(ot) { format($0.callsPerSecond, 0) + " calls/s" }, ratio(ot?.callsPerSecond, ft?.callsPerSecond)])
            rows.append(["\(result.name) process CPU (throughput)", cell(ft) { format($0.cpuShare * 100, 0) + "% of \(cores) cores" },
                         cell(ot) { format($0.cpuShare * 100, 0) + "% of \(cores) cores" }, ""])
            rows.append(["\(result.name) machine CPU busy (throughput)", cell(ft) { format($0.systemBusy * 100, 0) + "%" },
                         cell(ot) { format($0.systemBusy * 100, 0) + "%" }, ""])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max()! }
        for (index, row) in rows.enumerated() {
            let cells = row.enumerated().map { column, cell in
                column == 0 ? cell.padding(widths[column]) : cell.leftPadding(widths[column])
            }
            print("| " + cells.joined(separator: " | ") + " |")
            if index == 0 {
                print("|" + widths.enumerated().map { column, width in
                    String(repeating: "-", count: width + 1) + (column == 0 ? "-" : ":")
                }.joined(separator: "|") + "|")
            }
        }
        print("")
        print("latency: one call outstanding on one connection; ratio ours/floor (lower is better)")
        print("throughput: ratio ours/floor (higher is better)")
        print("process CPU: this process's user+sys time (getrusage) over wall time, as a share of all cores;")
        print("machine CPU busy: every process's, from /proc/stat (more than process CPU = something else ran too)")
    }

    static func fail(_ message: String) -> Never {
        Stderr.emit("MailSyncBenchmarks: \(message)\n")
        exit(2)
    }

    static func utcNow() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S UTC", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

enum Stderr {
    static func emit(_ string: String) {
        let bytes = Array(string.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

/// A table cell: the value shown, or "-" when that side was not measured.
func cell<T>(_ value: T?, _ show: (T) -> String) -> String { value.map(show) ?? "-" }

/// A number with a fixed count of decimals (no Foundation).
func format(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let whole = scaled / Int64(scale)
    let fraction = scaled % Int64(scale)
    var text = (value < 0 && scaled != 0 ? "-" : "") + groupThousands(whole)
    if decimals > 0 {
        let digits = String(fraction)
        text += "." + String(repeating: "0", count: decimals - digits.count) + digits
    }
    return text
}

func groupThousands(_ value: Int64) -> String {
    let digits = String(value)
    var out = ""
    for (index, character) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { out += "," }
        out.append(character)
    }
    return out
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
