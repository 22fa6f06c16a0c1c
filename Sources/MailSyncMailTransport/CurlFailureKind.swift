import CCurl
import Foundation
import MailSyncErrors

/// What kind of connection failure a libcurl result code stands for, shared by IMAP and SMTP.
enum CurlFailureKind {
    /// DNS, timeout, refused (or a connect timeout reported as such), the three certificate
    /// problems told apart by curl's message, TLS against a plain port or STARTTLS that the
    /// server does not offer or refuses (the security setting does not match the port: a
    /// settings change, never a silent fall-back to plain text); anything else is a connection
    /// that broke (`resetMidSession`).
    static func of(code: CURLcode, osErrno: Int32, message: String) -> ConnectionFailure.Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST: return .hostNotFound
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_COULDNT_CONNECT: return osErrno == ETIMEDOUT ? .timeout : .refused
        case CURLE_PEER_FAILED_VERIFICATION:
            let lower = message.lowercased()
            return lower.contains("expired") || lower.contains("not yet valid") ? .certificateExpired
                : lower.contains("subject name") || lower.contains("hostname") || lower.contains("host name") ? .certificateHostnameMismatch
                : .certificateUntrusted
        case CURLE_SSL_CONNECT_ERROR: return .tlsOnPlaintextPort
        // "STARTTLS not available." / "STARTTLS denied": STARTTLS was required (CURLUSESSL_ALL).
        case CURLE_USE_SSL_FAILED: return .tlsOnPlaintextPort
        default: return .resetMidSession
        }
    }
}
