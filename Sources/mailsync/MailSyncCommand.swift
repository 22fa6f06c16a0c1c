import ArgumentParser
import MailSyncService

/// The `mailsync` command: the server and, in later versions, its admin tools.
@main
struct MailSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailsync",
        abstract: "Mail Sync: records a CRM's users' mail on their leads' timelines.",
        version: MailSyncVersion.current,
        subcommands: [ServeCommand.self, KeysCommand.self]
    )
}
