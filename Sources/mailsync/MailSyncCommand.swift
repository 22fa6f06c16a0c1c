import ArgumentParser
import MailSyncService

/// The `mailsync` command: the server, and admin tools that call it through the generated client.
@main
struct MailSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailsync",
        abstract: "Mail Sync: records a CRM's users' mail on their leads' timelines.",
        version: MailSyncVersion.current,
        subcommands: [
            ServeCommand.self, KeysCommand.self, CompaniesCommand.self, PlansCommand.self, SettingsCommand.self,
            UsersCommand.self, LeadsCommand.self, MailboxesCommand.self, ErrorsCommand.self, EventsCommand.self, TimelineCommand.self,
            BillingCommand.self, BackupCommand.self, RestoreCommand.self, VerifyCommand.self, BackupsCommand.self, RemoteCommand.self,
            ClusterCommand.self,
        ]
    )
}
