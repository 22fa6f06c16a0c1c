import Foundation

/// `make bench` (churn) and `make soak`: the transport's memory over many connections and its
/// behaviour under sustained load, against a real `RPCServer` on 127.0.0.1 in this process.
/// See docs/benchmarks.md.
///
/// Usage:
///   TransportBenchmarks churn [--connections N]        open and close N connections (default 100,000)
///   TransportBenchmarks soak [--duration SECONDS] [--connections N]
///                                                      N connections (default 1,000) making mixed
///                                                      calls for the duration (default 600 s)
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> Int? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    guard let value = Int(arguments[index + 1]), value > 0 else {
        FileHandle.standardError.write(Data("TransportBenchmarks: \(name) takes a positive whole number\n".utf8))
        exit(2)
    }
    return value
}
switch arguments.first {
case "churn":
    try await Churn.run(connections: option("--connections") ?? 100_000)
case "soak":
    try await Soak.run(connections: option("--connections") ?? 1_000, duration: .seconds(option("--duration") ?? 600))
default:
    FileHandle.standardError.write(Data("usage: TransportBenchmarks churn [--connections N] | soak [--duration SECONDS] [--connections N]\n".utf8))
    exit(2)
}
