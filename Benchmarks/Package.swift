// swift-tools-version:6.0
//
// Benchmarks for Mail Sync's RPC stack, kept in a nested package so the root package's build and
// tests do not pay for them. Run with `make bench` (a release build). See docs/benchmarks.md.
import PackageDescription

let package = Package(
    name: "mailsync-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The root package. `name:` pins the identity used below, whatever the checkout's folder
        // is called (a path dependency is otherwise named after its folder).
        .package(name: "mailsync", path: "../"),
        // The client package (Clients/Swift): the client and the protocol runtime.
        .package(name: "MailSyncClient", path: "../Clients/Swift"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        // Only for the `Logger` that `RPCServer` takes; the same version as the root package's.
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        // The peer in the RPC benchmark: gRPC over HTTP/2 with default settings, raw-byte messages
        // (a custom serializer, so no protoc plugin and no swift-protobuf code).
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
    ],
    targets: [
        .executableTarget(
            name: "MailSyncBenchmarks",
            dependencies: [
                .product(name: "MailSyncRPCRuntime", package: "MailSyncClient"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ]
        ),
        // Transport: memory over 100,000 opened and closed connections (`churn`), and 1,000
        // connections under sustained mixed calls (`soak`) (docs/benchmarks.md).
        .executableTarget(
            name: "TransportBenchmarks",
            dependencies: [
                .product(name: "MailSyncRPCRuntime", package: "MailSyncClient"),
                .product(name: "MailSyncTestSupport", package: "mailsync"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Storage: cold tenant opens and batched upserts beside raw SQLite (docs/benchmarks.md).
        .executableTarget(
            name: "StorageBenchmarks",
            dependencies: [
                .product(name: "MailSyncStorageRuntime", package: "mailsync"),
                .product(name: "MailSyncReplicationRuntime", package: "mailsync"),
            ]
        ),
        // The fleet: redirect cost, move downtime and failover time of three `mailsync serve` nodes
        // on a three-member etcd shipping to SeaweedFS (docs/benchmarks.md, "Fleet").
        .executableTarget(
            name: "FleetBenchmarks",
            dependencies: [
                .product(name: "MailSyncClient", package: "MailSyncClient"),
                .product(name: "MailSyncRPCRuntime", package: "MailSyncClient"),
                .product(name: "MailSyncClusterRuntime", package: "mailsync"),
                .product(name: "MailSyncTestSupport", package: "mailsync"),
            ]
        ),
        // Sync engine: first sync of a large mailbox and idle polls against a throwaway Dovecot,
        // beside a raw IMAP socket client fetching the same headers (docs/benchmarks.md).
        .executableTarget(
            name: "SyncBenchmarks",
            dependencies: [
                .product(name: "MailSyncServiceRuntime", package: "mailsync"),
                .product(name: "MailSyncClient", package: "MailSyncClient"),
                .product(name: "MailSyncRPCRuntime", package: "MailSyncClient"),
                .product(name: "MailSyncStorageRuntime", package: "mailsync"),
                .product(name: "MailSyncTestSupport", package: "mailsync"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Backups off the machine: restore time per GiB from SeaweedFS beside GET + gunzip, and the
        // store's size over a simulated week with retention (docs/benchmarks.md).
        .executableTarget(
            name: "ReplicationBenchmarks",
            dependencies: [
                .product(name: "MailSyncReplicationRuntime", package: "mailsync"),
                .product(name: "MailSyncServiceRuntime", package: "mailsync"),
                .product(name: "MailSyncStorageRuntime", package: "mailsync"),
                .product(name: "MailSyncTestSupport", package: "mailsync"),
            ]
        ),
        // Backups: an online backup of a ~1 GB tenant while a writer commits, beside sqlite3's
        // `.backup` and `gzip -1`; verify and restore (docs/benchmarks.md).
        .executableTarget(
            name: "BackupBenchmarks",
            dependencies: [
                .product(name: "MailSyncBackupRuntime", package: "mailsync"),
                .product(name: "MailSyncServiceRuntime", package: "mailsync"),
                .product(name: "MailSyncStorageRuntime", package: "mailsync"),
                .product(name: "MailSyncRPCRuntime", package: "MailSyncClient"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
