import ArgumentParser
import MailSyncClient

/// `mailsync leads …`: the CRM's leads, whose mail the sync records.
struct LeadsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leads", abstract: "Add, update and delete leads.", subcommands: [Add.self, Delete.self])

    struct Add: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Add a lead, or replace one with the same id.")
        @OptionGroup var options: ClientOptions
        @Option(help: "The CRM's id for the lead.") var id: String
        @Option(help: "The lead's name.") var name: String
        @Option(help: "An email address (repeatable; at least one).") var email: [String]
        @Option(help: "The lead's company.") var companyName: String = ""
        func call(_ client: MailSync.Client) async throws {
            var lead = Lead()
            lead.id = id
            lead.name = name
            lead.emailAddresses = email
            lead.companyName = companyName
            let response = try await client.upsertLeads { try await $0.write(lead) }
            output(response, table: response.rejections.isEmpty
                ? .fields([("created", "\(response.created)"), ("updated", "\(response.updated)")])
                : Table(["LEAD", "REJECTED BECAUSE"], response.rejections.map { [$0.leadId, $0.reason] }))
            if !response.rejections.isEmpty { throw ExitCode(3) }
        }
    }

    struct Delete: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a lead with its opportunities and timeline.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The lead's id.") var id: String
        func call(_ client: MailSync.Client) async throws {
            var request = DeleteLeadRequest()
            request.leadId = id
            let response = try await client.deleteLead(request)
            output(response, table: .fields([("deleted", id), ("timeline entries removed", "\(response.removedTimelineEntries)")]))
        }
    }
}
