import CCurl
import Foundation
import MailSyncErrors

#if canImport(Glibc)
import Glibc
#endif

/// The message being uploaded and how far libcurl has read it.
private final class UploadSource {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

private let readCallback: ccurl_read_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let source = Unmanaged<UploadSource>.fromOpaque(userdata).takeUnretainedValue()
    let length = min(size * count, source.bytes.count - source.offset)
    guard length > 0 else { return 0 }
    source.bytes.withUnsafeBytes { raw in
        _ = memcpy(buffer, raw.baseAddress! + source.offset, length)
    }
    source.offset += length
    return length
}

/// One send's transcript and whether it was stopped for lack of authentication. Touched only on
/// the worker thread running the transfer.
private final class SMTPSessionWatch {
    let transcript = CurlTranscript()
    let requiresAuthentication: Bool
    var stoppedUnauthenticated = false

    init(requiresAuthentication: Bool) { self.requiresAuthentication = requiresAuthentication }

    /// Whether the server accepted our login: a `235` reply (RFC 4954) in the transcript. libcurl
    /// logs in whenever the server offers `AUTH` and fails the transfer when the login is refused,
    /// so no `235` by now means the server offered no `AUTH` and libcurl skipped it.
    var authenticated: Bool { SMTPTranscript.replies(transcript.lines).contains { $0.code == 235 } }
}

/// What the server said (`CURLINFO_HEADER_IN`). Never `HEADER_OUT`: `AUTH PLAIN` and `AUTH LOGIN`
/// carry the password.
private let debugCallback: ccurl_debug_callback = { _, type, data, size, userdata in
    guard type == CURLINFO_HEADER_IN, let data, let userdata else { return 0 }
    let watch = Unmanaged<SMTPSessionWatch>.fromOpaque(userdata).takeUnretainedValue()
    data.withMemoryRebound(to: UInt8.self, capacity: size) {
        watch.transcript.received(UnsafeBufferPointer(start: $0, count: size))
    }
    return 0
}

/// Runs after `EHLO`, STARTTLS and `AUTH`, before `MAIL FROM`: stops a send that must log in but
/// did not (the server offered no `AUTH`), so nothing of the envelope or message is sent.
private let prereqCallback: ccurl_prereq_callback = { userdata, _, _, _, _ in
    guard let userdata else { return Int32(CURL_PREREQFUNC_ABORT) }
    let watch = Unmanaged<SMTPSessionWatch>.fromOpaque(userdata).takeUnretainedValue()
    guard !watch.requiresAuthentication || watch.authenticated else {
        watch.stoppedUnauthenticated = true
        return Int32(CURL_PREREQFUNC_ABORT)
    }
    return Int32(CURL_PREREQFUNC_OK)
}

/// One SMTP transaction with libcurl's SMTP protocol: connect, TLS, `EHLO`, `AUTH`, `MAIL FROM`,
/// `RCPT TO` for each recipient, `DATA` (libcurl dot-stuffs the lines and adds the final `.`),
/// `QUIT`. A send that must log in and did not is stopped before `MAIL FROM`
/// (`CURLOPT_PREREQFUNCTION`). Blocking: run it on a ``CurlWorkerPool`` thread.
enum CurlSMTPTransfer {
    struct Parameters: Sendable {
        var server: SMTPSender.Server
        var envelope: SMTPEnvelope
        var message: [UInt8]
        var connectTimeout: Duration
        var timeout: Duration
    }

    static func perform(_ p: Parameters) -> Result<SMTPReceipt, SMTPError> {
        let server = p.server
        guard CurlGlobal.initialized, let handle = curl_easy_init() else {
            return .failure(SMTPError(.connection(ConnectionFailure(.resetMidSession, host: server.host, port: server.port, detail: "libcurl could not be initialized"))))
        }
        defer { curl_easy_cleanup(handle) }
        let watch = SMTPSessionWatch(requiresAuthentication: server.requiresAuthentication)
        let transcript = watch.transcript
        let watchPointer = Unmanaged.passRetained(watch)
        defer { watchPointer.release() }
        let source = Unmanaged.passRetained(UploadSource(p.message))
        defer { source.release() }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }
        var recipients: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(recipients) }
        for recipient in p.envelope.recipients {
            guard let appended = curl_slist_append(recipients, "<\(recipient)>") else {
                return .failure(SMTPError(.connection(ConnectionFailure(.resetMidSession, host: server.host, port: server.port, detail: "out of memory"))))
            }
            recipients = appended
        }

        let login = CurlLogin(
            scheme: server.security == .tls ? "smtps" : "smtp", host: server.host, port: server.port, username: server.username,
            credentials: server.credentials, loginOptions: server.loginOptions, requiresTLS: server.security != .none, tls: server.tls,
            policy: server.policy)
        if let refusal = login.refusalBeforeResolving() {
            return .failure(SMTPError(.connection(ConnectionFailure(.notAllowed, host: server.host, port: server.port)), policyRefusal: refusal))
        }
        let gate = login.makeGate()
        login.apply(to: handle, errorBuffer: errorBuffer, gate: gate)
        _ = ccurl_setopt_mail_from(handle, "<\(p.envelope.from)>")
        _ = ccurl_setopt_mail_rcpt(handle, recipients)
        _ = ccurl_setopt_upload(handle, 1)
        _ = ccurl_setopt_infilesize(handle, curl_off_t(p.message.count))  // SIZE= when the server offers SIZE
        _ = ccurl_setopt_readfunction(handle, readCallback)
        _ = ccurl_setopt_readdata(handle, source.toOpaque())
        _ = ccurl_setopt_connecttimeout_ms(handle, milliseconds(p.connectTimeout))
        _ = ccurl_setopt_timeout_ms(handle, milliseconds(p.timeout))
        _ = ccurl_setopt_debugfunction(handle, debugCallback)
        _ = ccurl_setopt_debugdata(handle, watchPointer.toOpaque())
        _ = ccurl_setopt_verbose(handle, 1)
        _ = ccurl_setopt_prereqfunction(handle, prereqCallback)
        _ = ccurl_setopt_prereqdata(handle, watchPointer.toOpaque())

        let code = withExtendedLifetime(gate) { curl_easy_perform(handle) }
        OutboundGate.uninstall(from: handle)
        let message = String(cString: errorBuffer)
        var osErrno = 0
        _ = ccurl_getinfo_os_errno(handle, &osErrno)
        // Nothing may point at this function's buffers once it returns (cleanup sends QUIT and
        // would write to them).
        _ = ccurl_setopt_verbose(handle, 0)
        _ = ccurl_setopt_debugfunction(handle, nil)
        _ = ccurl_setopt_debugdata(handle, nil)
        _ = ccurl_setopt_prereqfunction(handle, nil)
        _ = ccurl_setopt_prereqdata(handle, nil)
        _ = ccurl_setopt_errorbuffer(handle, nil)
        _ = ccurl_setopt_readdata(handle, nil)
        _ = ccurl_setopt_mail_rcpt(handle, nil)

        let lines = transcript.lines
        if code != CURLE_OK, let refusal = gate.refusal, gate.connects == 0 {
            return .failure(SMTPError(.connection(ConnectionFailure(.notAllowed, host: server.host, port: server.port)), policyRefusal: refusal))
        }
        if watch.stoppedUnauthenticated {
            return .failure(SMTPError(
                stop: .noAuthenticationOffered(host: server.host, port: server.port), host: server.host, port: server.port,
                transcript: lines, curlCode: Int(code.rawValue)))
        }
        guard code == CURLE_OK else {
            let curlMessage = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
            let failure = classify(code: code, osErrno: Int32(osErrno), message: curlMessage, transcript: lines, host: server.host, port: server.port)
            return .failure(SMTPError(failure, curlCode: Int(code.rawValue), curlMessage: curlMessage, transcript: lines))
        }
        let reply = SMTPTranscript.replies(lines).last { $0.code != 221 }
        return .success(SMTPReceipt(reply: reply, transcript: lines))
    }

    /// A failed transfer as a `MailFailure`: the server's own 4xx/5xx reply when it sent one,
    /// otherwise the connection failure in the system's words.
    static func classify(code: CURLcode, osErrno: Int32, message: String, transcript: [String], host: String, port: Int) -> MailFailure {
        if let reply = SMTPTranscript.failure(transcript) { return .smtp(reply) }
        if code == CURLE_LOGIN_DENIED {
            // Refused without a reply we could read: curl's words, as an SMTP authentication failure.
            var reply = SMTPReply(code: 535, text: message)
            reply.raw = message
            return .smtp(reply)
        }
        let kind = CurlFailureKind.of(code: code, osErrno: osErrno, message: message)
        let detail = code == CURLE_COULDNT_CONNECT && osErrno != 0 ? String(cString: strerror(osErrno)) : message
        return .connection(ConnectionFailure(kind, host: host, port: port, detail: detail))
    }

    static func milliseconds(_ duration: Duration) -> Int {
        max(1, Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000))
    }
}
