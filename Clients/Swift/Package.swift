// swift-tools-version:6.0
//
// The Mail Sync Swift client: what a CRM app adds to talk to a Mail Sync server. Its own package so
// that an app's build resolves only what a client needs (SwiftNIO, NIOSSL, swift-log and the
// swift-metrics API; no server, database, crypto or command-line packages), with version ranges
// that sit next to the app's own SwiftNIO. See the README's "Swift client" section.
//
// Layers, from the bottom up (each target may import only the ones above it in this list):
//   CZlib              system zlib (message compression)
//   MailSyncCoding     message encoding runtime: varints, tags, unknown fields (no dependencies)
//   MailSyncWire       the binary protocol: preface, frame header, frame codec, limits (NIOCore)
//   MailSyncRPC        call layer: status, metadata, deadlines, method descriptors, client and
//                      server call APIs, role checks; transport-agnostic
//   MailSyncTransport  the NIO transport: connections, multiplexing, flow control, TLS
//   MailSyncClient     generated messages and client stubs (namespace `MailSync`), `withMailSync`
//
// The server in the repository root builds on the same runtime (it depends on this package by
// path), which is why the server side of the call layer and transport lives here too: it is small
// and needs nothing a client does not (swift-metrics is only its dependency-free API package).
import PackageDescription

let package = Package(
    name: "MailSyncClient",
    platforms: [.macOS(.v15)],
    products: [
        // What an app depends on: `import MailSyncClient`.
        .library(name: "MailSyncClient", targets: ["MailSyncClient"]),
        // For this repository's server, benchmarks and fuzz targets (packages in the same checkout,
        // which can use another package's modules only through products); apps need none of these.
        .library(
            name: "MailSyncRPCRuntime", targets: ["MailSyncCoding", "MailSyncRPC", "MailSyncWire", "MailSyncTransport"]
        ),
        .library(name: "MailSyncZlib", targets: ["CZlib"]),
        // The encoding runtime alone, for the server's tenant data (which must not see the RPC layer).
        .library(name: "MailSyncEncoding", targets: ["MailSyncCoding"]),
        // The fuzz targets' parsers on their own, so a fuzz build compiles only what it needs: frame
        // decoding (NIOCore only), and the message codec without the transport.
        .library(name: "MailSyncWireFraming", targets: ["MailSyncWire"]),
        .library(name: "MailSyncCodec", targets: ["MailSyncCoding", "MailSyncRPC"]),
    ],
    dependencies: [
        // Ranges, not pins: the lowest versions are the ones this repository is built and tested
        // with (the sample app in Examples/SampleApp builds against another SwiftNIO in range).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "MailSyncCoding"),
        .target(
            name: "MailSyncWire",
            dependencies: [
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "MailSyncRPC",
            dependencies: [
                "MailSyncCoding", .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "MailSyncTransport",
            dependencies: [
                "MailSyncWire", "MailSyncRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "MailSyncClient",
            dependencies: [
                "MailSyncCoding", "MailSyncRPC", "MailSyncTransport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
    ]
)

// The same strict settings on every target (Swift 6 language mode is the tools-version default).
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
