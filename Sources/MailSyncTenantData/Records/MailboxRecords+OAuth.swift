import MailSyncClient
import MailSyncStorage

extension MailboxRecords {
    /// Turns an existing mailbox into an OAuth one (a reconnect, or a password mailbox signing in
    /// with OAuth): provider, address as login name, the provider's servers and the sealed
    /// tokens. Status and schedule are the caller's (see ``OAuthHandlers``).
    static func updateOAuth(
        _ db: SQLiteConnection, id: String, provider: MailProvider, username: String, imap: ServerEndpoint, smtp: ServerEndpoint,
        sealedSecret: [UInt8]
    ) throws {
        try db.run("UPDATE mailboxes SET provider = ?, auth_method = ? WHERE id = ?",
                   [.integer(Int64(provider.rawValue)), .integer(Int64(AuthMethod.oauth.rawValue)), .text(id)])
        try updateCredentials(db, id: id, username: username, imap: imap, smtp: smtp, sealedSecret: sealedSecret)
    }
}
