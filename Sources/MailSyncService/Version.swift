/// This build's version, reported by `GetServerInfo` and `mailsync --version`.
public enum MailSyncVersion {
    public static let current = "0.1.0"
}
