import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One connection of a ``HostileIMAPServer``: reads command lines and answers as the server's
/// mode says. Runs on its own thread; every write goes through ``write(_:)``, which gives up
/// (ending the session) when the client has gone or the server stops.
struct HostileIMAPSession {
    let server: HostileIMAPServer
    let fd: Int32
    private var input: [UInt8] = []
    private var loggedIn = false
    /// The server's mode and messages when the current command arrived.
    private var mode: HostileIMAPServer.Mode
    private var messages: [HostileIMAPServer.Message]
    /// The tag of the IDLE in progress (mode `idleAnswer`), completed by `DONE`.
    private var idleTag: String?

    init(server: HostileIMAPServer, fd: Int32) {
        self.server = server
        self.fd = fd
        (mode, messages) = server.state.withLock { ($0.mode, $0.messages) }
    }

    mutating func serve() {
        guard write("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n") else { return }
        while let line = readLine() {
            if let tag = idleTag, line.uppercased() == "DONE" {
                idleTag = nil
                guard write("\(tag) OK idle done\r\n") else { return }
                continue
            }
            let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
            guard words.count >= 2 else {
                guard write("* BAD what?\r\n") else { return }
                continue
            }
            let tag = words[0]
            var name = words[1].uppercased()
            var arguments = words.count > 2 ? words[2] : ""
            if name == "UID" {
                let rest = arguments.split(separator: " ", maxSplits: 1).map(String.init)
                name = rest.first?.uppercased() ?? ""
                arguments = rest.count > 1 ? rest[1] : ""
            }
            (mode, messages) = server.state.withLock { ($0.mode, $0.messages) }
            if loggedIn, case .slowDrip(let interval) = mode {
                drip(Array("* OK still working\r\n".utf8), interval: interval)
                return
            }
            if case .idleAnswer(let text) = mode, name == "IDLE" {
                guard write("+ idling\r\n" + text), !text.contains("* BYE") else { return }
                idleTag = tag
                continue
            }
            if case .untaggedFlood(let lines, let during) = mode, Self.commandName(during) == name {
                guard flood(lines: lines) else { return }
            }
            if case .refuse(let during, let text) = mode, Self.commandName(during) == name {
                guard write("\(tag) NO \(text)\r\n") else { return }
                continue
            }
            guard answer(tag: tag, name: name, arguments: arguments) else { return }
        }
    }

    /// `UID FETCH` → `FETCH`; `list` → `LIST`.
    static func commandName(_ text: String) -> String {
        let words = text.uppercased().split(separator: " ")
        return String(words.first == "UID" && words.count > 1 ? words[1] : words.first ?? "")
    }

    /// Answers one command; false once the connection is gone.
    private mutating func answer(tag: String, name: String, arguments: String) -> Bool {
        switch name {
        case "CAPABILITY":
            return write("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n\(tag) OK done\r\n")
        case "LOGIN":
            return loggedIn(tag: tag)
        case "AUTHENTICATE":
            // PLAIN with the credentials on the line (SASL-IR) or after a continuation.
            if arguments.split(separator: " ").count < 2 {
                guard write("+ \r\n"), readLine() != nil else { return false }
            }
            return loggedIn(tag: tag)
        case "LIST", "LSUB":
            return write("* LIST (\\HasNoChildren) \"/\" INBOX\r\n\(tag) OK done\r\n")
        case "STATUS":
            return write("* STATUS INBOX (UIDVALIDITY 7 UIDNEXT \(uidNext) MESSAGES \(messages.count))\r\n\(tag) OK done\r\n")
        case "SELECT", "EXAMINE":
            return write("* \(messages.count) EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT \(uidNext)] ok\r\n\(tag) OK [READ-ONLY] done\r\n")
        case "SEARCH":
            let uids = messages.map { String($0.uid) }.joined(separator: " ")
            return write("* SEARCH \(uids)\r\n\(tag) OK done\r\n")
        case "FETCH":
            return fetch(tag: tag, arguments: arguments)
        case "LOGOUT":
            _ = write("* BYE bye\r\n\(tag) OK done\r\n")
            return false
        default:
            return write("\(tag) OK done\r\n")
        }
    }

    private mutating func loggedIn(tag: String) -> Bool {
        loggedIn = true
        server.state.withLock { $0.logins += 1 }
        return write("\(tag) OK [CAPABILITY IMAP4rev1] logged in\r\n")
    }

    private var uidNext: UInt32 { (messages.last?.uid ?? 0) + 1 }

    /// `UID FETCH <set> (…ENVELOPE…)` or `(…BODY.PEEK[]…)` for the messages in the set.
    private func fetch(tag: String, arguments: String) -> Bool {
        let parts = arguments.split(separator: " ", maxSplits: 1)
        let set = parts.first.map(String.init) ?? ""
        let items = parts.count > 1 ? parts[1].uppercased() : ""
        if !items.contains("ENVELOPE"), items.contains("BODY") { server.state.withLock { $0.bodyFetches += 1 } }
        let chosen = messages.enumerated().filter { Self.contains(set, $0.element.uid, highest: uidNext - 1) }
        for (index, message) in chosen {
            let sequence = index + 1
            if items.contains("ENVELOPE") {
                guard write("* \(sequence) FETCH (UID \(message.uid) INTERNALDATE \"\(message.internalDate)\" RFC822.SIZE \(announcedSize(message)) ENVELOPE \(Self.envelope(message)))\r\n") else { return false }
            } else if items.contains("BODY") {
                guard body(sequence: sequence, message: message) else { return false }
            } else {
                guard write("* \(sequence) FETCH (UID \(message.uid) FLAGS ())\r\n") else { return false }
            }
        }
        return write("\(tag) OK done\r\n")
    }

    /// The RFC822.SIZE the headers announce.
    private func announcedSize(_ message: HostileIMAPServer.Message) -> Int {
        if case .literalFlood(_, let size) = mode { return size }
        return message.body.count
    }

    private func body(sequence: Int, message: HostileIMAPServer.Message) -> Bool {
        let prefix = "* \(sequence) FETCH (UID \(message.uid) BODY[] "
        switch mode {
        case .literalFlood(let literals, let size):
            guard write(prefix) else { return false }
            for index in 0..<literals {
                guard write((index == 0 ? "" : " BODY[\(index)] ") + "{\(size)}\r\n"), filler(size) else { return false }
            }
            return write(")\r\n")
        case .endlessLiteral(let announced, let trickle):
            guard write(prefix + "{\(announced)}\r\n") else { return false }
            if let trickle {
                drip(Array("endless literal\r\n".utf8), interval: trickle)
            } else {
                waitForClose()
            }
            return false
        case .oversizedBody(let sentSize):
            return write(prefix + "{\(sentSize)}\r\n") && filler(sentSize) && write(")\r\n")
        default:
            return write(prefix + "{\(message.body.count)}\r\n") && write(message.body) && write(")\r\n")
        }
    }

    static func envelope(_ message: HostileIMAPServer.Message) -> String {
        func address(_ text: String) -> String {
            let parts = text.split(separator: "@", maxSplits: 1)
            return "((NIL NIL \"\(parts.first ?? "")\" \"\(parts.count > 1 ? parts[1] : "")\"))"
        }
        let from = address(message.from)
        return "(\"Sun, 20 Sep 2026 10:00:00 +0000\" \"\(message.subject)\" \(from) \(from) \(from) \(address(message.to)) NIL NIL NIL \"<\(message.messageID)>\")"
    }

    /// Whether `uid` is in an IMAP sequence set such as `1:3,7,9:*`.
    static func contains(_ set: String, _ uid: UInt32, highest: UInt32) -> Bool {
        for item in set.split(separator: ",") {
            let ends = item.split(separator: ":").map { $0 == "*" ? highest : UInt32($0) ?? 0 }
            guard let first = ends.first else { continue }
            let last = ends.count > 1 ? ends[1] : first
            if min(first, last) <= uid && uid <= max(first, last) { return true }
        }
        return false
    }

    // MARK: - Bytes

    /// `count` bytes of message-like filler, from one reused chunk.
    private func filler(_ count: Int) -> Bool {
        var left = count
        return Self.fillerChunk.withUnsafeBytes { chunk in
            while left > 0 {
                let size = min(left, chunk.count)
                guard send(UnsafeRawBufferPointer(rebasing: chunk[0..<size])) else { return false }
                left -= size
            }
            return true
        }
    }

    private static let fillerChunk: [UInt8] = Array(String(repeating: "All work and no play makes a dull message.\r\n", count: 1490).utf8)

    /// `lines` lines of `* OK x`, in chunks of 64 KiB.
    private func flood(lines: Int) -> Bool {
        let line = Array("* OK x\r\n".utf8)
        let chunk = Array([[UInt8]](repeating: line, count: 8192).joined())
        var left = lines
        while left > 0 {
            let count = min(left, 8192)
            guard write(Array(chunk[0..<(count * line.count)])) else { return false }
            left -= count
        }
        return true
    }

    /// Sends `pattern` one byte per `interval`, over and over, until the client goes or the
    /// server stops.
    private func drip(_ pattern: [UInt8], interval: Duration) {
        var index = 0
        while true {
            guard pause(interval), write([pattern[index]]) else { return }
            index = (index + 1) % pattern.count
        }
    }

    /// Waits `interval`; false when the client hung up or the server stops.
    private func pause(_ interval: Duration) -> Bool {
        let deadline = ContinuousClock.now + interval
        while !server.isStopping {
            let left = deadline - ContinuousClock.now
            if left <= .zero { return true }
            let milliseconds = Int32(min(100, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1))
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, milliseconds) > 0 {
                var scratch = [UInt8](repeating: 0, count: 4096)
                let received = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if received == 0 || (received < 0 && errno != EAGAIN && errno != EINTR) { return false }
            }
        }
        return false
    }

    /// Holds the connection open, reading and dropping, until the client goes or the server stops.
    private func waitForClose() {
        while pause(.seconds(1)) {}
    }

    @discardableResult
    private func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    private func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { send($0) }
    }

    private func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            guard !server.isStopping else { return false }
            let sent = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += sent
            server.state.withLock { $0.bytesSent += sent }
        }
        return true
    }

    /// The next line without its line ending, or nil once the client has gone.
    private mutating func readLine() -> String? {
        while true {
            if let end = input.firstIndex(of: 0x0A) {
                var line = Array(input[..<end])
                input.removeFirst(end + 1)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard !server.isStopping else { return nil }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received < 0 && errno == EINTR { continue }
            guard received > 0 else { return nil }
            input += chunk[0..<received]
        }
    }
}
