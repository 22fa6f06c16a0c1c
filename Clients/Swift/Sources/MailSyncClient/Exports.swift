// The client library is one import: `import MailSyncClient` brings the messages and stubs
// (generated here), the call API (`CallOptions`, `RPCError`, `StatusCode`), the encoding runtime
// and the TCP transport.
@_exported import MailSyncCoding
@_exported import MailSyncRPC
@_exported import MailSyncTransport
