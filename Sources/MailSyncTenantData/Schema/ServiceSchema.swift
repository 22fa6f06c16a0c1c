import MailSyncStorage

/// The database schemas, for tools that open the files directly (`mailsync keys`).
public enum ServiceSchema {
    public static var controlMigrations: [Migration] { ControlMigrations.all }
    public static var tenantMigrations: [Migration] { TenantMigrations.all }
}
