import CCurl
import Foundation
import MailSyncErrors

#if canImport(Glibc)
import Glibc
#endif

/// The body and headers of one HTTP answer as libcurl hands them over.
private final class HTTPAnswer {
    var body: [UInt8] = []
    var headers: [String] = []
    let limit: Int
    var overflowed = false

    init(limit: Int) { self.limit = limit }
}

private let bodyCallback: ccurl_write_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let answer = Unmanaged<HTTPAnswer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard answer.body.count + length <= answer.limit else {
        answer.overflowed = true
        return 0  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        answer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

private let headerCallback: ccurl_write_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let answer = Unmanaged<HTTPAnswer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    if answer.headers.count < 100 {
        let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
        answer.headers.append(line.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return length
}

/// One HTTP request (a form POST, or a GET) through libcurl on its own ``CurlThread``; blocking
/// inside, async outside.
///
/// No verbose or debug output is ever turned on: requests carry secrets. Only `https`, or `http`
/// to a loopback host; no redirects.
enum CurlHTTP {
    struct Request: Sendable {
        var url: String
        /// Sent as `application/x-www-form-urlencoded` in a POST; nil: a GET.
        var body: String?
        var headers: [String]
        var timeout: Duration
        var caFile: String?
        var maxResponseBytes: Int
        /// Where the request may go; judged on every resolved address before connecting.
        var policy: OutboundPolicy
    }

    struct Answer: Sendable {
        var status: Int
        var body: [UInt8]
        var retryAfter: Duration?
    }

    static func send(_ request: Request) async throws(OAuthTokenClientError) -> Answer {
        let (host, port) = endpoint(request.url)
        guard allowed(request.url, host: host) else {
            throw OAuthTokenClientError(.oauth(OAuthTokenError(
                error: "invalid_endpoint", errorDescription: "OAuth endpoints must be https:// (http:// only on loopback)", httpStatus: 0)))
        }
        let thread = CurlThread(name: "oauth \(host)")
        let result: Result<Answer, OAuthTokenClientError> = await withCheckedContinuation { continuation in
            thread.finish { continuation.resume(returning: perform(request, host: host, port: port)) }
        }
        return try result.get()
    }

    private static func perform(_ request: Request, host: String, port: Int?) -> Result<Answer, OAuthTokenClientError> {
        guard CurlGlobal.initialized, let handle = curl_easy_init() else {
            return .failure(OAuthTokenClientError(.connection(ConnectionFailure(.resetMidSession, host: host, port: port, detail: "libcurl could not be initialized"))))
        }
        defer { curl_easy_cleanup(handle) }
        let answer = Unmanaged.passRetained(HTTPAnswer(limit: request.maxResponseBytes))
        defer { answer.release() }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        let formHeaders = request.body == nil ? [] : ["Content-Type: application/x-www-form-urlencoded", "Expect:"]
        for header in request.headers + formHeaders {
            headers = curl_slist_append(headers, header) ?? headers
        }

        if let literal = IPAddress(host) ?? IPAddress.parseLegacyIPv4(host),
           let refusal = request.policy.refusal(host: host, address: literal, port: port ?? 443, plaintext: false) {
            return .failure(OAuthTokenClientError(.connection(ConnectionFailure(.notAllowed, host: host, port: port)), policyRefusal: refusal))
        }
        let gate = OutboundGate(policy: request.policy, host: host, plaintext: false)
        gate.install(on: handle)
        _ = ccurl_setopt_url(handle, request.url)
        _ = ccurl_setopt_protocols_str(handle, "http,https")
        _ = ccurl_setopt_redir_protocols_str(handle, "https")
        _ = ccurl_setopt_followlocation(handle, 0)
        _ = ccurl_setopt_nosignal(handle, 1)
        _ = ccurl_setopt_errorbuffer(handle, errorBuffer)
        _ = ccurl_setopt_httpheader(handle, headers)
        if let body = request.body { _ = ccurl_setopt_copypostfields(handle, body) }
        _ = ccurl_setopt_writefunction(handle, bodyCallback)
        _ = ccurl_setopt_writedata(handle, answer.toOpaque())
        _ = ccurl_setopt_headerfunction(handle, headerCallback)
        _ = ccurl_setopt_headerdata(handle, answer.toOpaque())
        _ = ccurl_setopt_ssl_verifypeer(handle, 1)
        _ = ccurl_setopt_ssl_verifyhost(handle, 2)
        if let caFile = request.caFile { _ = ccurl_setopt_cainfo(handle, caFile) }
        let timeout = CurlSMTPTransfer.milliseconds(request.timeout)
        _ = ccurl_setopt_connecttimeout_ms(handle, timeout)
        _ = ccurl_setopt_timeout_ms(handle, timeout)

        let code = withExtendedLifetime(gate) { curl_easy_perform(handle) }
        OutboundGate.uninstall(from: handle)
        let message = String(cString: errorBuffer)
        var osErrno = 0
        _ = ccurl_getinfo_os_errno(handle, &osErrno)
        var status = 0
        _ = ccurl_getinfo_response_code(handle, &status)
        _ = ccurl_setopt_errorbuffer(handle, nil)
        _ = ccurl_setopt_writedata(handle, nil)
        _ = ccurl_setopt_headerdata(handle, nil)
        _ = ccurl_setopt_httpheader(handle, nil)

        let received = answer.takeUnretainedValue()
        if received.overflowed {
            return .failure(OAuthTokenClientError(.oauth(OAuthTokenError(
                error: "invalid_response", errorDescription: "the answer exceeded \(request.maxResponseBytes) bytes", httpStatus: status))))
        }
        if code != CURLE_OK, let refusal = gate.refusal, gate.connects == 0 {
            return .failure(OAuthTokenClientError(.connection(ConnectionFailure(.notAllowed, host: host, port: port)), policyRefusal: refusal))
        }
        guard code == CURLE_OK else {
            let curlMessage = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
            let failure = CurlSMTPTransfer.classify(code: code, osErrno: Int32(osErrno), message: curlMessage, transcript: [], host: host, port: port ?? 0)
            if case .connection = failure { return .failure(OAuthTokenClientError(failure)) }
            return .failure(OAuthTokenClientError(.connection(ConnectionFailure(.resetMidSession, host: host, port: port, detail: curlMessage))))
        }
        return .success(Answer(status: status, body: received.body, retryAfter: retryAfter(received.headers)))
    }

    /// `Retry-After: <seconds>` (the HTTP-date form is ignored).
    static func retryAfter(_ headers: [String]) -> Duration? {
        for line in headers {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "retry-after",
                let seconds = Int64(parts[1].trimmingCharacters(in: .whitespaces)), seconds >= 0 else { continue }
            return .seconds(seconds)
        }
        return nil
    }

    static func endpoint(_ url: String) -> (host: String, port: Int?) {
        guard let components = URLComponents(string: url) else { return ("?", nil) }
        return (components.host ?? "?", components.port ?? (components.scheme == "http" ? 80 : 443))
    }

    static func allowed(_ url: String, host: String) -> Bool {
        guard let scheme = URLComponents(string: url)?.scheme?.lowercased() else { return false }
        if scheme == "https" { return true }
        return scheme == "http" && ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host.lowercased())
    }
}
