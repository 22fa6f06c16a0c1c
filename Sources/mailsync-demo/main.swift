// `make demo`: a throwaway Dovecot with a seeded mailbox, a fresh `mailsync serve`, and the
// `mailsync` commands a newcomer would type — company, user key, leads, mailbox — then the
// statuses and a lead's timeline once the server's own sync loop has run. Everything is removed
// at the end (also on failure). Only 127.0.0.1 is used.
import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mailsync").path
guard FileManager.default.isExecutableFile(atPath: binary) else {
    FileHandle.standardError.write(Data("mailsync-demo: \(binary) is missing; run `swift build` first\n".utf8))
    exit(1)
}

struct DemoFailure: Error, CustomStringConvertible { let description: String }

/// Runs `mailsync …`, echoing the command line as a newcomer would type it, and returns stdout.
@discardableResult
func mailsync(_ arguments: [String], environment: [String: String] = [:], echo: Bool = true, show: Bool = true) throws -> String {
    if echo {
        let shown = arguments.map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ")
        print("$ mailsync \(shown)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    if show { print(output) }
    guard process.terminationStatus == 0 else {
        throw DemoFailure(description: "mailsync \(arguments.first ?? "") failed (\(process.terminationStatus)): \(errors)")
    }
    return output
}

func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-demo-\(getpid())").path
var server: Process?
var dovecot: DovecotServer?

@MainActor func cleanUp() async {
    if let server, server.isRunning {
        server.terminate()
        server.waitUntilExit()
    }
    await dovecot?.stop()
    try? FileManager.default.removeItem(atPath: dataDirectory)
}

do {
    print("== A throwaway IMAP server (Dovecot on 127.0.0.1) with Ada's mailbox")
    let mail = try await DovecotServer.start(users: [(name: "ada", password: "demo-password")])
    dovecot = mail
    let day: TimeInterval = 86_400
    let now = Date()
    let seeded: [(folder: String, text: String, age: TimeInterval)] = [
        ("INBOX", "From: Jane Doe <jane@globex.example>\r\nTo: ada@acme.example\r\nSubject: Pricing for 50 seats\r\nMessage-ID: <p1@globex.example>\r\n\r\nHi Ada, could you send pricing for 50 seats?\r\n", 3 * day),
        ("Sent", "From: Ada <ada@acme.example>\r\nTo: Jane Doe <jane@globex.example>\r\nSubject: Re: Pricing for 50 seats\r\nMessage-ID: <r1@acme.example>\r\n\r\nHi Jane, attached. Ada\r\n", 2 * day),
        ("INBOX", "From: =?UTF-8?Q?Bj=C3=B6rn?= <bjorn@initech.example>\r\nTo: ada@acme.example\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_Malm=C3=B6?=\r\nMessage-ID: <b1@initech.example>\r\n\r\nHej!\r\n", day),
        ("INBOX", "From: newsletter@shop.example\r\nTo: ada@acme.example\r\nSubject: 20% off\r\nMessage-ID: <n1@shop.example>\r\n\r\nnot from a lead\r\n", day),
        ("INBOX", "From: colleague@acme.example\r\nTo: ada@acme.example\r\nSubject: Lunch?\r\nMessage-ID: <l1@acme.example>\r\n\r\nin-house mail\r\n", 0.5 * day),
    ]
    for message in seeded {
        try await mail.append(user: "ada", folder: message.folder, message: message.text, date: now.addingTimeInterval(-message.age))
    }
    print("   \(seeded.count) messages in INBOX and Sent, port \(mail.port)\n")

    print("== The server, with a fresh data directory")
    let operatorKey = (json(try mailsync(["keys", "create-operator", "--data-dir", dataDirectory, "--json"], show: false)) as? [String: String])?["secret"] ?? ""
    print("   (operator key created)\n")
    let port = try DovecotServer.freePort()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    // The demo's Dovecot listens on loopback: allowed as an operator would (private addresses are refused by default).
    process.arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--data-dir", dataDirectory, "--log-level", "warning", "--allow-outbound", "127.0.0.1"]
    try process.run()
    server = process
    for _ in 0..<250 where !DovecotServer.accepts(port: port) { try await Task.sleep(for: .milliseconds(20)) }
    print("   mailsync serve on 127.0.0.1:\(port)\n")

    let asOperator = ["MAILSYNC_SERVER": "127.0.0.1:\(port)", "MAILSYNC_API_KEY": operatorKey]
    print("== As the operator: a company and a key for its administrator")
    let company = json(try mailsync(
        ["companies", "create", "--name", "Acme", "--plan", "essential", "--domain", "acme.example",
         "--admin-id", "ada", "--admin-name", "Ada Admin", "--admin-email", "ada@acme.example", "--json"],
        environment: asOperator, show: false)) as? [String: Any]
    let companyID = company?["id"] as? String ?? ""
    print("   company \(companyID)\n")
    let key = json(try mailsync(["keys", "create", "--company", companyID, "--user", "ada", "--label", "demo", "--json"],
                                environment: asOperator, show: false)) as? [String: Any]
    let asAda = ["MAILSYNC_SERVER": "127.0.0.1:\(port)", "MAILSYNC_API_KEY": key?["secret"] as? String ?? ""]
    print("   (key for ada created)\n")

    print("== As Ada (administrator): leads, then her mailbox")
    try mailsync(["leads", "add", "--id", "globex", "--name", "Jane Doe", "--email", "jane@globex.example", "--company-name", "Globex"], environment: asAda)
    try mailsync(["leads", "add", "--id", "initech", "--name", "Björn", "--email", "bjorn@initech.example", "--company-name", "Initech"], environment: asAda)
    try mailsync(["mailboxes", "connect", "--email", "ada@acme.example", "--provider", "custom-imap", "--username", "ada",
                  "--imap", "127.0.0.1:\(mail.port)", "--imap-security", "none"],
                 environment: asAda.merging(["MAILSYNC_MAILBOX_SECRET": "demo-password"]) { $1 })

    print("== The server's sync loop picks the mailbox up within a second or two")
    var synced = false
    for _ in 0..<150 {
        let list = json(try mailsync(["mailboxes", "list", "--json"], environment: asAda, echo: false, show: false)) as? [[String: Any]]
        if list?.first?["last_synced_at"] is String { synced = true; break }
        try await Task.sleep(for: .milliseconds(200))
    }
    guard synced else { throw DemoFailure(description: "the mailbox did not sync within 30 s") }
    try mailsync(["mailboxes", "list"], environment: asAda)
    try mailsync(["timeline", "globex"], environment: asAda)
    try mailsync(["timeline", "initech"], environment: asAda)
    try mailsync(["events", "--limit", "8"], environment: asAda)
    print("Only mail with leads was recorded; the newsletter and the in-house lunch invitation were not.")
    await cleanUp()
    print("Cleaned up: server stopped, Dovecot stopped, \(dataDirectory) removed.")
} catch {
    FileHandle.standardError.write(Data("mailsync-demo: \(error)\n".utf8))
    await cleanUp()
    exit(1)
}
