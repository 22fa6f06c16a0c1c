// swift-tools-version:5.4
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry point to
// `<Module>_main` and links `main` to it, but a fuzz target has no entry point of its own (it is
// compiled with `-parse-as-library`); libFuzzer's runtime supplies `main`.
//
// Coverage-guided fuzz targets (libFuzzer, Swift's `-sanitize=fuzzer`, Linux only) for the code
// that reads what a mail server sends. A nested package so the root package's build and tests do
// not pay for it. Build and run with `make fuzz` / `make fuzz-smoke` (scripts/fuzz.sh), which pass
// `-sanitize=fuzzer -parse-as-library` to every Swift target, so the libraries are instrumented
// too and libFuzzer supplies `main`. See docs/fuzzing.md.
import PackageDescription

let package = Package(
    name: "mailsync-fuzz",
    dependencies: [
        // The root package. `name:` pins the identity used below, whatever the checkout's folder
        // is called (a path dependency is otherwise named after its folder).
        .package(name: "mailsync", path: "../"),
        // The client package (its own in Clients/Swift): the RPC side's parsers.
        .package(name: "MailSyncClient", path: "../Clients/Swift"),
        // The version the root pins: FuzzFrameDecoder builds ByteBuffers (NIOCore) itself.
        .package(url: "https://github.com/apple/swift-nio.git", .exact("2.101.3")),
    ],
    targets: [
        // IMAPResponseDecoder (framer + parser) on arbitrary bytes, fed whole and in two chunks.
        .executableTarget(
            name: "FuzzIMAPResponse",
            dependencies: [.product(name: "MailSyncIMAPParsing", package: "mailsync")]
        ),
        // RFC 2047 encoded words in header text.
        .executableTarget(
            name: "FuzzRFC2047",
            dependencies: [.product(name: "MailSyncIMAPParsing", package: "mailsync")]
        ),
        // MIME text extraction from a raw message (multiparts, transfer encodings, charsets, HTML).
        .executableTarget(
            name: "FuzzMailBodyText",
            dependencies: [.product(name: "MailSyncMatchingRules", package: "mailsync")]
        ),
        // The Date: header parser and the timeline's choice between it and INTERNALDATE.
        .executableTarget(
            name: "FuzzMailDate",
            dependencies: [.product(name: "MailSyncMatchingRules", package: "mailsync")]
        ),
        // What the sync does with parsed FETCH, SEARCH/ESEARCH and LIST data: envelopes classified,
        // dates read, UID sets collected, folder names decoded.
        .executableTarget(
            name: "FuzzFetchData",
            dependencies: [
                .product(name: "MailSyncIMAPParsing", package: "mailsync"),
                .product(name: "MailSyncMatchingRules", package: "mailsync"),
                .product(name: "MailSyncMailTransportRuntime", package: "mailsync"),
            ]
        ),
        // The RPC side (issue 11): FrameDecoder and the preface on arbitrary bytes, fed whole and
        // in two chunks.
        .executableTarget(
            name: "FuzzFrameDecoder",
            dependencies: [
                .product(name: "MailSyncWireFraming", package: "MailSyncClient"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The message codec through every generated message type (the client's generated file,
        // Clients/Swift/Sources/MailSyncClient/mailsync.generated.swift, compiled here through a
        // symlink, so the client's transport is not built), round trips and validate().
        .executableTarget(
            name: "FuzzMessageCodec",
            dependencies: [.product(name: "MailSyncCodec", package: "MailSyncClient")]
        ),
        // The schema compiler's lexer, parser and checker on arbitrary text.
        .executableTarget(
            name: "FuzzSchemaParser",
            dependencies: [.product(name: "MailSyncSchemaCompiler", package: "mailsync")]
        ),
    ]
)
