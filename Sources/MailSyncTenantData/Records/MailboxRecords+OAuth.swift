import MailSyncStorage

extension MailboxRecords {
    /// Turns an existing mailbox into an OAuth one (a reconnect, or a password mailbox signing in
    /// with OAuth): provider, address as login name, the provider's servers and the sealed
    /// tokens. Status and schedule are the caller's (see ``OAuthHandlers``).
    package static func updateOAuth(
        _ db: SQLiteConnection, id: String, provider: MailboxRecord.Provider, username: String, imap: ServerAddress, smtp: ServerAddress,
        sealedSecret: [UInt8]
    ) throws {
        try db.run("UPDATE mailboxes SET provider = ?, auth_method = ? WHERE id = ?",
                   [.text(provider.stored), .text(MailboxRecord.AuthMethod.oauth.stored), .text(id)])
        try updateCredentials(db, id: id, username: username, imap: imap, smtp: smtp, sealedSecret: sealedSecret)
    }
}
