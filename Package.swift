// swift-tools-version:6.0
//
// Mail Sync: a multi-tenant RPC server that records a CRM's users' mail on their leads' timelines.
//
// Layers, from the bottom up (each target may import only the ones above it in this list):
//   Clients/Swift      its own package (a CRM app depends on it alone): CZlib, MailSyncCoding,
//                      MailSyncWire, MailSyncRPC, MailSyncTransport (the protocol runtime, which
//                      the server shares) and MailSyncClient (generated messages and client stubs
//                      in the `MailSync` namespace); see its Package.swift
//   SchemaCompiler     the IDL parser, checker and Swift emitter; `mailsync-gen` drives it
//   CSQLite            system libsqlite3 (storage)
//   CCurl              system libcurl with typed setopt wrappers (IMAP connect, TLS, login)
//   MailSyncMailTransport  IMAP connections over libcurl (CONNECT_ONLY + curl_easy_send/recv) on
//                      dedicated threads, failures classified by MailSyncErrors
//   MailSyncMatching   pure mail-to-lead rules: participants, message keys, direction, in-house mail
//   MailSyncStorage    SQLite layer: connections, per-tenant files, LRU pool, migrations, stamps
//   MailSyncBackup     tenant backups: online snapshots, zlib, manifests, verify, restore
//   MailSyncCluster    the fleet's control plane in etcd: client, membership lease and fence,
//                      placements with epochs
//   MailSyncReplication  WAL shipping of one SQLite file to an object store (MailSyncObjectStore)
//                      and point-in-time restore from the store alone
//   MailSyncTenantData every SQL statement on the control and company databases, their migrations,
//                      and the domain types rows decode to (by column name, refusing bad rows);
//                      never the RPC layer nor the generated client
//   MailSyncEngine     the sync engine: scheduling, sync runs, mailbox health, OAuth token access,
//                      the write signal; on the tenant data's domain types, never the RPC layer,
//                      the transport nor the generated client (Package.swift leaves them out)
//   MailSyncService    the server: generated server stubs, the service's handlers (wire messages
//                      to and from domain types, data and engine errors to statuses)
//   mailsync           the command: `serve` and admin subcommands
import PackageDescription

// Clients/Swift's products (a path dependency's identity is its folder's name, "swift").
let client = Target.Dependency.product(name: "MailSyncClient", package: "swift")
let rpcRuntime = Target.Dependency.product(name: "MailSyncRPCRuntime", package: "swift")
let zlib = Target.Dependency.product(name: "MailSyncZlib", package: "swift")
// The encoding runtime alone and the wire format alone (zlib), for the tenant data, which must not
// see the RPC layer or the generated client.
let encoding = Target.Dependency.product(name: "MailSyncEncoding", package: "swift")
let wireFraming = Target.Dependency.product(name: "MailSyncWireFraming", package: "swift")

let package = Package(
    name: "mailsync",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MailSyncStorageRuntime", targets: ["MailSyncStorage"]),
        .library(name: "MailSyncServiceRuntime", targets: ["MailSyncService", "MailSyncEngine", "MailSyncTenantData", "MailSyncSecurity"]),
        .library(name: "MailSyncBackupRuntime", targets: ["MailSyncBackup"]),
        .library(name: "MailSyncReplicationRuntime", targets: ["MailSyncReplication", "MailSyncObjectStore"]),
        .library(name: "MailSyncTestSupport", targets: ["TestSupport"]),
        // The fleet's control plane (etcd client, placements), for the fleet benchmark.
        .library(name: "MailSyncClusterRuntime", targets: ["MailSyncCluster"]),
        // For the fuzz targets in Fuzz/ (a nested package can use only products): the parsers of
        // what a mail server sends, each on its own so a fuzz build compiles only what it needs.
        .library(name: "MailSyncIMAPParsing", targets: ["MailSyncIMAP"]),
        .library(name: "MailSyncMatchingRules", targets: ["MailSyncMatching"]),
        .library(name: "MailSyncMailTransportRuntime", targets: ["MailSyncMailTransport"]),
        // The schema compiler for its fuzz target (the RPC side's parsers are Clients/Swift's
        // products MailSyncWireFraming and MailSyncCodec).
        .library(name: "MailSyncSchemaCompiler", targets: ["SchemaCompiler"]),
        .executable(name: "mailsync", targets: ["mailsync"]),
        .executable(name: "mailsync-gen", targets: ["mailsync-gen"]),
        .executable(name: "mailsync-demo", targets: ["mailsync-demo"]),
    ],
    dependencies: [
        // The client and the protocol runtime (MailSyncCoding, MailSyncWire, MailSyncRPC,
        // MailSyncTransport, CZlib), a package of their own; its identity is its folder's name.
        .package(path: "Clients/Swift"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(
            name: "MailSyncStorage",
            dependencies: ["CSQLite", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "MailSyncSecurity", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "SchemaCompiler"),
        .target(name: "MailSyncErrors"),
        .target(name: "MailSyncIMAP"),
        .target(name: "MailSyncMailTransport", dependencies: ["CCurl", "MailSyncIMAP", "MailSyncErrors"]),
        // No crypto library: MessageKey's SHA-256 is its own (SHA256Digest), so the parsers and
        // their fuzz builds do not compile BoringSSL.
        .target(name: "MailSyncMatching", dependencies: ["MailSyncIMAP"]),
        .executableTarget(name: "mailsync-gen", dependencies: ["SchemaCompiler"]),
        // Backups off the machine: the S3 API over libcurl, or a directory.
        // The fleet's control plane: an etcd v3 client (JSON gateway on SwiftNIO), membership
        // under a lease, the lease fence, placements with epochs (docs/cluster.md).
        .target(
            name: "MailSyncCluster",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "MailSyncObjectStore", dependencies: ["CCurl", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "MailSyncBackup",
            dependencies: ["MailSyncStorage", "CSQLite", zlib, .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Continuous WAL shipping of one SQLite file to an object store, and point-in-time restore.
        .target(
            name: "MailSyncReplication",
            dependencies: ["MailSyncObjectStore", "MailSyncStorage", "CSQLite", zlib, .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Every SQL statement, the migrations and the domain types they read and write. Not the
        // RPC layer nor the generated client: the service converts wire messages to these types.
        .target(
            name: "MailSyncTenantData",
            dependencies: [
                "MailSyncStorage", "MailSyncSecurity", encoding, wireFraming, "MailSyncMatching", "MailSyncErrors",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The sync engine: what it needs to sync mailboxes into the tenant data, and nothing of the
        // RPC layer, the transport nor the generated client. SwiftPM can still compile an import of
        // a module of this package built earlier, so EngineImportsTests also reads the sources.
        .target(
            name: "MailSyncEngine",
            dependencies: [
                "MailSyncTenantData", "MailSyncStorage", "MailSyncSecurity", encoding, "MailSyncErrors",
                "MailSyncMailTransport", "MailSyncIMAP", "MailSyncMatching",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "MailSyncService",
            dependencies: [
                "MailSyncEngine", "MailSyncTenantData", client, rpcRuntime, "MailSyncStorage", "MailSyncSecurity",
                "MailSyncIMAP", "MailSyncErrors", "MailSyncMailTransport", "MailSyncMatching", "MailSyncBackup",
                "MailSyncObjectStore", "MailSyncReplication", "MailSyncCluster",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "mailsync",
            dependencies: [
                "MailSyncService", "MailSyncTenantData", "MailSyncStorage", "MailSyncSecurity", "MailSyncObjectStore",
                "MailSyncReplication", "MailSyncCluster", client, rpcRuntime,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),

        // `make demo`: a throwaway Dovecot, a fresh server, and the CLI, end to end.
        .executableTarget(name: "mailsync-demo", dependencies: ["TestSupport"]),

        // Tests mirror Sources/. Shared fixtures (test schema, its generated code, servers) live in
        // TestSupport.
        .target(
            name: "TestSupport",
            dependencies: [
                rpcRuntime,
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport",
            exclude: ["Schema"]
        ),
        .testTarget(name: "MailSyncClusterTests", dependencies: ["MailSyncCluster", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "MailSyncObjectStoreTests", dependencies: ["MailSyncObjectStore", "TestSupport"]),
        .testTarget(
            name: "MailSyncReplicationTests",
            dependencies: ["MailSyncReplication", "MailSyncObjectStore", "MailSyncStorage", "CSQLite"]
        ),
        .testTarget(name: "MailSyncCodingTests", dependencies: [rpcRuntime, "TestSupport"]),
        .testTarget(
            name: "MailSyncWireTests",
            dependencies: [rpcRuntime, "TestSupport", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "MailSyncTransportTests",
            dependencies: [
                rpcRuntime, "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(name: "MailSyncStorageTests", dependencies: ["MailSyncStorage", "CSQLite"]),
        .testTarget(name: "MailSyncTenantDataTests", dependencies: ["MailSyncTenantData", "MailSyncStorage", encoding]),
        .testTarget(name: "MailSyncBackupTests", dependencies: ["MailSyncBackup", "MailSyncStorage", "CSQLite", zlib]),
        .testTarget(name: "SchemaCompilerTests", dependencies: ["SchemaCompiler"]),
        .testTarget(name: "MailSyncErrorsTests", dependencies: ["MailSyncErrors"]),
        .testTarget(name: "MailSyncIMAPTests", dependencies: ["MailSyncIMAP"]),
        .testTarget(name: "MailSyncMatchingTests", dependencies: [
            "MailSyncMatching", "MailSyncIMAP", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(
            name: "MailSyncMailTransportTests",
            dependencies: ["MailSyncMailTransport", "MailSyncIMAP", "MailSyncErrors", "MailSyncMatching", "TestSupport"]
        ),
        .testTarget(
            name: "MailSyncSecurityTests",
            dependencies: ["MailSyncSecurity", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "MailSyncEngineTests",
            dependencies: ["MailSyncEngine", "MailSyncTenantData", "MailSyncErrors", "MailSyncMailTransport"]
        ),
        .testTarget(
            name: "MailSyncServiceTests",
            dependencies: [
                "MailSyncCluster",
                "MailSyncService", "MailSyncEngine", "MailSyncTenantData", client, "MailSyncStorage", "SchemaCompiler", "TestSupport",
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
