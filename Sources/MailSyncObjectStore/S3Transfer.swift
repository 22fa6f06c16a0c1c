import CCurl
import Foundation

/// One S3 request through libcurl, signed by libcurl itself (`CURLOPT_AWS_SIGV4`
/// `aws:amz:REGION:s3` with the key ID and secret as user name and password), run on a thread of
/// its own: `curl_easy_perform` blocks, so never on Swift's cooperative pool.
///
/// No verbose or debug output is turned on (the `Authorization` header is derived from the
/// secret); no redirects; only `http` and `https`. Every body read is bounded: a 2xx answer by
/// the request's `maxResponseBytes`, any other by 64 KiB (an S3 error document is a few hundred
/// bytes). Going over the bound ends the transfer and is reported as ``Outcome/tooLarge``.
enum S3Transfer {
    struct Request: Sendable {
        var method: String
        var url: String
        /// `Name: value` lines; `x-amz-content-sha256` is added (the body's SHA-256, signed).
        var headers: [String] = []
        var body: Data?
        /// The body's SHA-256 in hex when the caller has it already (large uploads); else computed.
        var payloadSHA256: String? = nil
        var maxResponseBytes: Int
    }

    struct Response: Sendable {
        var status: Int
        /// Header names lowercased; a repeated header keeps its last value.
        var headers: [String: String]
        var body: Data
    }

    enum Outcome: Sendable {
        case response(Response)
        /// No answer: refused, reset, timed out, name not resolved, TLS failed. `detail` is
        /// libcurl's message (which never holds credentials: they are not in the URL).
        case connectionFailed(detail: String)
        /// The answer's body was larger than allowed.
        case tooLarge(status: Int, limit: Int)
    }

    static let errorBodyLimit = 64 * 1024
    private static let emptyBodySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static func send(_ request: Request, configuration: S3Configuration) async -> Outcome {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: perform(request, configuration: configuration)) }
            thread.name = "s3 \(request.method)"
            thread.start()
        }
    }

    private static func perform(_ request: Request, configuration: S3Configuration) -> Outcome {
        guard S3CurlGlobal.initialized, let handle = curl_easy_init() else {
            return .connectionFailed(detail: "libcurl could not be initialized")
        }
        defer { curl_easy_cleanup(handle) }
        let sink = Unmanaged.passRetained(ResponseSink(limit: request.maxResponseBytes))
        defer { sink.release() }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }

        let body = request.body ?? (request.method == "PUT" || request.method == "POST" ? Data() : nil)
        let payloadHash = request.payloadSHA256 ?? body.map { S3Checksum.sha256Hex($0) } ?? emptyBodySHA256
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        // libcurl would add a form Content-Type to a body of its own, unsigned: name ours.
        let hasType = request.headers.contains { $0.lowercased().hasPrefix("content-type:") }
        let contentType = body != nil && !hasType ? ["Content-Type: application/octet-stream"] : []
        for header in request.headers + contentType + ["x-amz-content-sha256: \(payloadHash)"] {
            headers = curl_slist_append(headers, header) ?? headers
        }

        _ = ccurl_setopt_url(handle, request.url)
        _ = ccurl_setopt_protocols_str(handle, "http,https")
        _ = ccurl_setopt_followlocation(handle, 0)
        _ = ccurl_setopt_nosignal(handle, 1)
        _ = ccurl_setopt_errorbuffer(handle, errorBuffer)
        _ = ccurl_setopt_aws_sigv4(handle, "aws:amz:\(configuration.region):s3")
        _ = ccurl_setopt_username(handle, configuration.accessKeyID)
        _ = ccurl_setopt_password(handle, configuration.secretAccessKey)
        _ = ccurl_setopt_httpheader(handle, headers)
        _ = ccurl_setopt_writefunction(handle, bodyCallback)
        _ = ccurl_setopt_writedata(handle, sink.toOpaque())
        _ = ccurl_setopt_headerfunction(handle, headerCallback)
        _ = ccurl_setopt_headerdata(handle, sink.toOpaque())
        _ = ccurl_setopt_ssl_verifypeer(handle, 1)
        _ = ccurl_setopt_ssl_verifyhost(handle, 2)
        if let caFile = configuration.caFile { _ = ccurl_setopt_cainfo(handle, caFile) }
        _ = ccurl_setopt_connecttimeout_ms(handle, milliseconds(configuration.connectTimeout))
        _ = ccurl_setopt_timeout_ms(handle, milliseconds(configuration.requestTimeout))
        if request.method != "GET" && request.method != "POST" { _ = ccurl_setopt_customrequest(handle, request.method) }
        if request.method == "HEAD" { _ = ccurl_setopt_nobody(handle, 1) }

        let code: CURLcode
        if let body {
            // A body libcurl reads in place (POSTFIELDS is not copied): alive for the whole
            // perform. With CUSTOMREQUEST the method stays PUT; the body is the same.
            code = body.withUnsafeBytes { raw in
                _ = ccurl_setopt_postfieldsize(handle, curl_off_t(raw.count))
                _ = ccurl_setopt_postfields(handle, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
                defer { _ = ccurl_setopt_postfields(handle, nil) }
                return curl_easy_perform(handle)
            }
        } else {
            code = curl_easy_perform(handle)
        }
        var status = 0
        _ = ccurl_getinfo_response_code(handle, &status)
        _ = ccurl_setopt_errorbuffer(handle, nil)
        _ = ccurl_setopt_writedata(handle, nil)
        _ = ccurl_setopt_headerdata(handle, nil)
        _ = ccurl_setopt_httpheader(handle, nil)
        _ = ccurl_setopt_password(handle, nil)

        let received = sink.takeUnretainedValue()
        if received.overflowed { return .tooLarge(status: status, limit: received.currentLimit) }
        guard code == CURLE_OK else {
            let message = String(cString: errorBuffer)
            return .connectionFailed(detail: message.isEmpty ? String(cString: curl_easy_strerror(code)) : message)
        }
        return .response(Response(status: status, headers: received.headers, body: received.body))
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow, seconds >= 0 else { return seconds < 0 ? 1 : Int.max }
        return max(1, Int(clamping: product) &+ Int(attoseconds / 1_000_000_000_000_000))
    }
}

/// What libcurl hands over of one answer, with the body's bound.
private final class ResponseSink {
    var body = Data()
    var headers: [String: String] = [:]
    var status = 0
    let limit: Int
    var overflowed = false

    init(limit: Int) { self.limit = limit }

    /// A 2xx body may be as large as the request allows, anything else 64 KiB.
    var currentLimit: Int { (200..<300).contains(status) ? limit : S3Transfer.errorBodyLimit }
}

private let bodyCallback: ccurl_write_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let (length, overflow) = size.multipliedReportingOverflow(by: count)
    guard !overflow, length <= sink.currentLimit - sink.body.count else {
        sink.overflowed = true
        return 0  // ends the transfer (CURLE_WRITE_ERROR)
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) { sink.body.append($0, count: length) }
    return length
}

/// Keeps the last status line's code and that answer's headers (a `100 Continue` comes first).
private let headerCallback: ccurl_write_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let (length, overflow) = size.multipliedReportingOverflow(by: count)
    guard !overflow else { return 0 }
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: min(length, 8192)), as: UTF8.self)
    }.trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        let parts = line.split(separator: " ", maxSplits: 2)
        sink.status = parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
        sink.headers = [:]
    } else if let colon = line.firstIndex(of: ":"), sink.headers.count < 200 {
        let name = line[..<colon].lowercased()
        sink.headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return length
}

/// `curl_global_init` once per process, before the first handle (thread-safe since curl 7.84;
/// MailSyncMailTransport has its own, and a second call is harmless).
enum S3CurlGlobal {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}
