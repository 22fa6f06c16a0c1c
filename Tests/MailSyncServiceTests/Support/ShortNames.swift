// The schema's messages and enums by their short names (`Company` for `MailSync.Company`) in every
// file of this module: an exported import is module-wide, and MailSyncService declares them as
// public type aliases (Sources/MailSyncService/Generated/mailsync+ShortNames.generated.swift).
@_exported import MailSyncService
