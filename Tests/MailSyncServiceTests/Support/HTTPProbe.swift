import Foundation
import TestSupport

/// One HTTP/1.1 request over a real loopback TCP connection, read until the server closes it
/// (the observability endpoint always answers `Connection: close`), waiting up to 25 s: the
/// tests bound what they measure themselves (a hung readiness check is 30 s), and a loaded
/// machine once took more than 10 s to answer.
struct HTTPProbe {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func request(_ method: String = "GET", _ path: String, port: Int, body: String = "") async throws -> Response {
        let connection = try await RawConnection.connect(port: port)
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: mailsync-tests\r\n"
        if !body.isEmpty || method == "POST" { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        try await connection.send(Array(text.utf8))
        let closed = await connection.wait(timeout: .seconds(25)) { $0.isClosed }
        await connection.close()
        guard closed else { throw Failure(description: "the endpoint did not answer \(method) \(path) and close within 25 s") }
        return try parse(String(decoding: connection.received, as: UTF8.self))
    }

    static func get(_ path: String, port: Int) async throws -> Response {
        try await request("GET", path, port: port)
    }

    static func parse(_ text: String) throws -> Response {
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no complete HTTP head in: \(text.prefix(200))") }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, lines[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw Failure(description: "bad status line: \(lines[0])")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

/// Prometheus text format, read back: the value of one series.
enum PrometheusText {
    /// The value of `name{labels}` (labels in the order the server writes them, e.g.
    /// `method="…",code="ok"`; empty for an unlabelled series), or nil when absent.
    static func value(_ text: String, _ name: String, _ labels: String = "") -> Double? {
        let series = labels.isEmpty ? name : "\(name){\(labels)}"
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1).split(separator: " ")[0])
        }
        return nil
    }
}
