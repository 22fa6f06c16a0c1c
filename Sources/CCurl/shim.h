#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic: Swift cannot call them. These typed
// wrappers cover what the IMAP connection (MailSyncMailTransport) needs; add more the same way.

static inline CURLcode ccurl_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode ccurl_setopt_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode ccurl_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode ccurl_setopt_url(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_URL, v); }
static inline CURLcode ccurl_setopt_connect_only(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, v); }
static inline CURLcode ccurl_setopt_username(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_USERNAME, v); }
static inline CURLcode ccurl_setopt_password(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_PASSWORD, v); }
static inline CURLcode ccurl_setopt_use_ssl(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_USE_SSL, v); }
static inline CURLcode ccurl_setopt_login_options(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, v); }
static inline CURLcode ccurl_setopt_xoauth2_bearer(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, v); }
static inline CURLcode ccurl_setopt_connecttimeout_ms(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, v); }
static inline CURLcode ccurl_setopt_timeout_ms(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, v); }
static inline CURLcode ccurl_setopt_verbose(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_VERBOSE, v); }
static inline CURLcode ccurl_setopt_nosignal(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_NOSIGNAL, v); }
static inline CURLcode ccurl_setopt_ssl_verifypeer(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, v); }
static inline CURLcode ccurl_setopt_ssl_verifyhost(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, v); }
static inline CURLcode ccurl_setopt_cainfo(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_CAINFO, v); }
static inline CURLcode ccurl_setopt_errorbuffer(CURL *c, char *v) { return curl_easy_setopt(c, CURLOPT_ERRORBUFFER, v); }

typedef int (*ccurl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata);

static inline CURLcode ccurl_setopt_debugfunction(CURL *c, ccurl_debug_callback f) {
    return curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, f);
}
static inline CURLcode ccurl_setopt_debugdata(CURL *c, void *v) { return curl_easy_setopt(c, CURLOPT_DEBUGDATA, v); }

// The socket curl connected (and logged in) with CONNECT_ONLY; -1 (CURL_SOCKET_BAD) if none.
static inline CURLcode ccurl_getinfo_activesocket(CURL *c, curl_socket_t *socket) {
    return curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, socket);
}
// errno of the last failed connect (ECONNREFUSED, ETIMEDOUT, …).
static inline CURLcode ccurl_getinfo_os_errno(CURL *c, long *value) {
    return curl_easy_getinfo(c, CURLINFO_OS_ERRNO, value);
}
// Phase times of the last transfer, microseconds from its start (0: the phase did not complete).
static inline CURLcode ccurl_getinfo_namelookup_time_t(CURL *c, curl_off_t *value) {
    return curl_easy_getinfo(c, CURLINFO_NAMELOOKUP_TIME_T, value);
}
static inline CURLcode ccurl_getinfo_connect_time_t(CURL *c, curl_off_t *value) {
    return curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, value);
}
static inline CURLcode ccurl_getinfo_appconnect_time_t(CURL *c, curl_off_t *value) {
    return curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, value);
}
static inline CURLcode ccurl_getinfo_total_time_t(CURL *c, curl_off_t *value) {
    return curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, value);
}
static inline CURLcode ccurl_getinfo_ssl_verifyresult(CURL *c, long *value) {
    return curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, value);
}

// SMTP (SMTPSender): the message is uploaded through a read callback.
typedef size_t (*ccurl_read_callback)(char *buffer, size_t size, size_t nitems, void *userdata);

static inline CURLcode ccurl_setopt_readfunction(CURL *c, ccurl_read_callback f) {
    return curl_easy_setopt(c, CURLOPT_READFUNCTION, f);
}
static inline CURLcode ccurl_setopt_readdata(CURL *c, void *v) { return curl_easy_setopt(c, CURLOPT_READDATA, v); }
static inline CURLcode ccurl_setopt_upload(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_UPLOAD, v); }
static inline CURLcode ccurl_setopt_infilesize(CURL *c, curl_off_t v) { return curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, v); }
static inline CURLcode ccurl_setopt_mail_from(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_MAIL_FROM, v); }
static inline CURLcode ccurl_setopt_mail_rcpt(CURL *c, struct curl_slist *v) { return curl_easy_setopt(c, CURLOPT_MAIL_RCPT, v); }
// Called once connected and logged in (SMTP: after EHLO, STARTTLS and AUTH), before MAIL FROM;
// returning CURL_PREREQFUNC_ABORT ends the transfer with CURLE_ABORTED_BY_CALLBACK.
typedef int (*ccurl_prereq_callback)(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port);
static inline CURLcode ccurl_setopt_prereqfunction(CURL *c, ccurl_prereq_callback f) {
    return curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, f);
}
static inline CURLcode ccurl_setopt_prereqdata(CURL *c, void *v) { return curl_easy_setopt(c, CURLOPT_PREREQDATA, v); }

// HTTP (OAuthTokenClient): a form POST to a token endpoint; the answer arrives through the write
// and header callbacks.
typedef size_t (*ccurl_write_callback)(char *data, size_t size, size_t nitems, void *userdata);

static inline CURLcode ccurl_setopt_writefunction(CURL *c, ccurl_write_callback f) {
    return curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode ccurl_setopt_writedata(CURL *c, void *v) { return curl_easy_setopt(c, CURLOPT_WRITEDATA, v); }
static inline CURLcode ccurl_setopt_headerfunction(CURL *c, ccurl_write_callback f) {
    return curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, f);
}
static inline CURLcode ccurl_setopt_headerdata(CURL *c, void *v) { return curl_easy_setopt(c, CURLOPT_HEADERDATA, v); }
static inline CURLcode ccurl_setopt_copypostfields(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, v); }
static inline CURLcode ccurl_setopt_httpheader(CURL *c, struct curl_slist *v) { return curl_easy_setopt(c, CURLOPT_HTTPHEADER, v); }
static inline CURLcode ccurl_setopt_protocols_str(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, v); }
static inline CURLcode ccurl_setopt_followlocation(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, v); }
static inline CURLcode ccurl_getinfo_response_code(CURL *c, long *value) {
    return curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, value);
}

// Outbound policy (OutboundGate): libcurl asks us for every socket it is about to connect, with
// the address it resolved; refusing (CURL_SOCKET_BAD) happens before any packet leaves.
typedef curl_socket_t (*ccurl_opensocket_callback)(void *clientp, curlsocktype purpose, struct curl_sockaddr *address);

static inline CURLcode ccurl_setopt_opensocketfunction(CURL *c, ccurl_opensocket_callback f) {
    return curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, f);
}
static inline CURLcode ccurl_setopt_opensocketdata(CURL *c, void *v) { return curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, v); }
static inline CURLcode ccurl_setopt_redir_protocols_str(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, v); }

/// The address curl is about to connect to: family (AF_INET/AF_INET6), 4 or 16 address bytes
/// into `bytes`, the port in host order. Returns 0, or -1 for any other family or a short address.
/// (In C because `struct curl_sockaddr` ends in a `struct sockaddr` that is really as long as
/// `addrlen` says: an IPv6 address does not fit the declared 16 bytes.)
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
static inline int ccurl_sockaddr_ip(const struct curl_sockaddr *a, unsigned char bytes[16], int *family, int *port) {
    if (a->family == AF_INET && a->addrlen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->addr;
        memcpy(bytes, &in->sin_addr, 4);
        *family = AF_INET;
        *port = ntohs(in->sin_port);
        return 0;
    }
    if (a->family == AF_INET6 && a->addrlen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->addr;
        memcpy(bytes, &in6->sin6_addr, 16);
        *family = AF_INET6;
        *port = ntohs(in6->sin6_port);
        return 0;
    }
    return -1;
}

/// What curl would have done without an open-socket callback.
static inline curl_socket_t ccurl_open_socket(const struct curl_sockaddr *a) {
    return socket(a->family, a->socktype, a->protocol);
}
static inline CURLcode ccurl_setopt_resolve(CURL *c, struct curl_slist *v) { return curl_easy_setopt(c, CURLOPT_RESOLVE, v); }

// S3 (MailSyncObjectStore): requests signed by libcurl (AWS Signature V4), any method, a body
// given as a pointer libcurl does not copy.
static inline CURLcode ccurl_setopt_aws_sigv4(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_AWS_SIGV4, v); }
static inline CURLcode ccurl_setopt_customrequest(CURL *c, const char *v) { return curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, v); }
static inline CURLcode ccurl_setopt_postfields(CURL *c, const void *v) { return curl_easy_setopt(c, CURLOPT_POSTFIELDS, v); }
static inline CURLcode ccurl_setopt_postfieldsize(CURL *c, curl_off_t v) { return curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, v); }
static inline CURLcode ccurl_setopt_nobody(CURL *c, long v) { return curl_easy_setopt(c, CURLOPT_NOBODY, v); }
