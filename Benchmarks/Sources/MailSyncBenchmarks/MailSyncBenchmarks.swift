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
/// beside a raw NIO echo of the same bytes ("floor") and the same echo over grpc-swift-2 ("grpc"),
/// on 127.0.0.1, each server in a child process of its own (`--serve`, see `ServerProcess`). See
/// docs/benchmarks.md for what is measured and why.
///
/// Options: `--duration SECONDS` per throughput case (default 3), `--quick` (short run for a smoke
/// test: fewer calls, 0.5 s per throughput case), `--only floor|ours|grpc`, `--size small|large`,
/// `--latency-only`, `--handlers-on-event-loop`.
@main
enum MailSyncBenchmarks {
    struct Options {
        var duration: Duration = .seconds(3)
        var warmup: Duration = .milliseconds(500)
        /// 4 connections × 16 callers: 64 calls in flight during throughput runs.
        var connections = 4
        var callersPerConnection = 16
        var latencyCalls = [16: 3_000, 65_536: 1_000]
        var latencyWarmup = [16: 500, 65_536: 100]
        /// For profiling one side: `--only floor`, `--only ours` or `--only grpc`.
        var only: Side?
        var sizes: Set<Int> = [16, 65_536]
        /// Run handlers on the connections' event loops (`ServerConfiguration.runsHandlersOnEventLoop`).
        var handlersOnEventLoop = false
        /// Latency only (for counting syscalls per call with strace).
        var skipThroughput = false

        enum Side: String, CaseIterable { case floor, ours, grpc }

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
                    guard let side = rest.popFirst().flatMap(Side.init(rawValue:)) else {
                        fail("--only takes floor, ours or grpc")
                    }
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
                    print("usage: MailSyncBenchmarks [--quick] [--duration SECONDS] [--only floor|ours|grpc] [--size small|large] [--latency-only] [--handlers-on-event-loop]")
                    exit(0)
                default:
                    fail("unknown argument '\(argument)'; try --help")
                }
            }
            return options
        }
    }

    struct SideResult {
        var latency: LatencySamples
        var throughput: Throughput?
    }

    struct CaseResult {
        var name: String
        var sides: [Options.Side: SideResult]
    }

    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--serve" { try await Serve.run(arguments) }
        try await run(options: Options.parse(arguments))
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
        print("cores: \(cores); event loops: \(cores) per process (MultiThreadedEventLoopGroup.singleton); build: \(configuration)")
        print("load average (1 min) at the start: \(loadAverage())")
        print("loopback 127.0.0.1; each server in its own process; throughput: \(options.connections) connections × \(options.callersPerConnection) callers = \(options.connections * options.callersPerConnection) in flight, \(format(options.duration.secondsDouble, 1)) s per case")
        print("")

        var results: [CaseResult] = []
        for (name, size) in [("small (16 B)", 16), ("large (64 KiB)", 65_536)] where options.sizes.contains(size) {
            let shape = CallShape(payloadSize: size)
            print("\(name): \(shape.request.readableBytes) B out, \(shape.response.readableBytes) B back per call (ours and floor)")
            var sides: [Options.Side: SideResult] = [:]
            for side in Options.Side.allCases where options.only == nil || options.only == side {
                let result: SideResult
                switch side {
                case .floor: result = try await runFloor(shape, options, cores: cores, group: group)
                case .ours: result = try await runOurs(shape, options, cores: cores, group: group)
                case .grpc: result = try await runGRPC(shape, options, cores: cores)
                }
                print("  \(side.rawValue): done (machine CPU busy during throughput: \(cell(result.throughput) { format($0.systemBusy * 100, 0) })%)")
                sides[side] = result
            }
            results.append(CaseResult(name: name, sides: sides))
        }

        print("")
        printTable(results, cores: cores)
        print("load average (1 min) at the end: \(loadAverage())")
    }

    /// Latency on the first connection, then throughput on all of them, against `server`.
    static func measure(
        _ shape: CallShape, _ options: Options, cores: Int, server: ServerProcess,
        call: @escaping @Sendable (_ connection: Int) async throws -> Void
    ) async throws -> SideResult {
        let size = shape.payloadSize
        let latency = try await measureLatency(
            warmup: options.latencyWarmup[size]!, count: options.latencyCalls[size]!
        ) { try await call(0) }
        let throughput = options.skipThroughput ? nil : try await measureThroughput(
            connections: options.connections, callersPerConnection: options.callersPerConnection,
            warmup: options.warmup, duration: options.duration, cores: cores,
            serverCPUTime: { server.cpuTime() }, call: call)
        return SideResult(latency: latency, throughput: throughput)
    }

    /// The raw NIO echo.
    static func runFloor(
        _ shape: CallShape, _ options: Options, cores: Int, group: any EventLoopGroup
    ) async throws -> SideResult {
        let server = try ServerProcess.start(kind: "floor", payloadSize: shape.payloadSize)
        defer { server.stop() }
        var connected: [Floor.Client] = []
        for _ in 0..<options.connections {
            connected.append(try await Floor.Client.connect(port: server.port, shape: shape, group: group))
        }
        let clients = connected
        let result = try await measure(shape, options, cores: cores, server: server) { connection in
            try await clients[connection].call()
        }
        for client in clients { await client.close() }
        return result
    }

    /// `RPCServer` + `TCPClientTransport` + `RPCClient.unary`, one transport (connection) per
    /// connection slot.
    static func runOurs(
        _ shape: CallShape, _ options: Options, cores: Int, group: any EventLoopGroup
    ) async throws -> SideResult {
        let size = shape.payloadSize
        let server = try ServerProcess.start(
            kind: "ours", payloadSize: size,
            extraArguments: options.handlersOnEventLoop ? ["--handlers-on-event-loop"] : [])
        defer { server.stop() }
        let transports = (0..<options.connections).map { _ in
            TCPClientTransport(host: "127.0.0.1", port: server.port, group: group)
        }
        let clients = transports.map { RPCClient(transport: $0) }
        let request = BenchMessage(payload: [UInt8](repeating: 0xA5, count: size))
        let result = try await measure(shape, options, cores: cores, server: server) { connection in
            let response: BenchMessage = try await clients[connection].unary(BenchService.echo, request)
            guard response.payload.count == size else {
                throw RPCError(.internal, "echo returned \(response.payload.count) bytes, expected \(size)")
            }
        }
        for transport in transports { transport.close() }
        return result
    }

    /// grpc-swift-2 with default settings: one `GRPCClient` (one HTTP/2 connection) per slot.
    static func runGRPC(_ shape: CallShape, _ options: Options, cores: Int) async throws -> SideResult {
        let size = shape.payloadSize
        let server = try ServerProcess.start(kind: "grpc", payloadSize: size)
        defer { server.stop() }
        let clients = try (0..<options.connections).map { _ in try GRPCEcho.Client(port: server.port) }
        let payload = [UInt8](repeating: 0xA5, count: size)
        let result = try await measure(shape, options, cores: cores, server: server) { connection in
            let count = try await clients[connection].echo(payload)
            guard count == size else {
                throw RPCError(.internal, "gRPC echo returned \(count) bytes, expected \(size)")
            }
        }
        for client in clients { await client.close() }
        return result
    }

    static func printTable(_ results: [CaseResult], cores: Int) {
        var rows: [[String]] = [["case", "floor", "ours", "ours/floor", "grpc-swift-2", "grpc/floor", "ours/grpc"]]
        func micros(_ ns: Double) -> String { format(ns / 1000, 1) + " µs" }
        func ratio(_ a: Double?, _ b: Double?) -> String {
            guard let a, let b else { return "-" }
            return format(a / b, 2) + "x"
        }
        func row(_ label: String, _ sides: [Options.Side: SideResult], value: (SideResult) -> Double?,
                 show: (Double) -> String, ratios: Bool = true) -> [String] {
            let f = sides[.floor].flatMap(value), o = sides[.ours].flatMap(value), g = sides[.grpc].flatMap(value)
            return [label, cell(f, show), cell(o, show), ratios ? ratio(o, f) : "", cell(g, show),
                    ratios ? ratio(g, f) : "", ratios ? ratio(o, g) : ""]
        }
        for result in results {
            let sides = result.sides
            for (label, p) in [("p50", 50.0), ("p99", 99.0)] {
                rows.append(row("\(result.name) latency \(label)", sides, value: { $0.latency.percentile(p) }, show: micros))
            }
            rows.append(row("\(result.name) latency mean", sides, value: { $0.latency.mean }, show: micros))
            rows.append(row("\(result.name) throughput", sides, value: { $0.throughput?.callsPerSecond },
                            show: { format($0, 0) + " calls/s" }))
            rows.append(row("\(result.name) CPU, client+server (throughput)", sides,
                            value: { $0.throughput?.cpuShare }, show: { format($0 * 100, 0) + "% of \(cores) cores" },
                            ratios: false))
            rows.append(row("\(result.name) machine CPU busy (throughput)", sides,
                            value: { $0.throughput?.systemBusy }, show: { format($0 * 100, 0) + "%" }, ratios: false))
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max()! }
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
        print("latency: one call outstanding on one connection; a ratio a/b below 1 means a is faster")
        print("throughput: a ratio a/b above 1 means a completes more calls")
        print("CPU: the client process's user+sys time (getrusage) plus the server process's (/proc/PID/stat),")
        print("over wall time, as a share of all cores; machine CPU busy: every process's, from /proc/stat")
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
