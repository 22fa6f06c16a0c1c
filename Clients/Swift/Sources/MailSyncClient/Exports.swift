// The client library is one import: `import MailSyncClient` brings the messages, enums and stubs
// (generated, inside the `MailSync` namespace so that they do not collide with an app's own
// `Company` or `User`), the call API (`CallOptions`, `RPCError`, `StatusCode`, `Metadata`) and the
// transports (`ClientConfiguration`, `RoutingClientTransport` for a fleet, `TCPClientTransport`). The encoding runtime
// (MailSyncCoding: `Message`, `WireReader`, ...) is not re-exported; `MailSync.Timestamp` names its
// timestamp.
@_exported import MailSyncRPC
@_exported import MailSyncTransport
