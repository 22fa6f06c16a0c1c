// swift-tools-version:6.0
//
// A small CRM-style app that uses the Mail Sync Swift client the way an app would: the client by
// path (the README shows the git form) and its own SwiftNIO pinned to a version other than the
// server's, inside the client's range. `scripts/check-client-sample.sh` (run by `make test`)
// builds it and checks that no server package is resolved.
import PackageDescription

let package = Package(
    name: "SampleApp",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        // The app's own SwiftNIO: 2.101.2, where the server pins 2.101.3.
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "SampleApp",
            dependencies: [
                .product(name: "MailSyncClient", package: "Swift"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)
