import ArgumentParser
import MailSyncClient

/// `mailsync users …` (a company's administrators).
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "List, create, re-role and deactivate a company's users.",
        subcommands: [List.self, Create.self, SetRole.self, Deactivate.self])

    static func table(_ users: [User]) -> Table {
        Table(["ID", "NAME", "EMAIL", "ROLE", "ACTIVE", "MAILBOX"], users.map { user in
            [user.id, user.name, user.email, EnumArgument.text(user.role, prefix: "USER_ROLE_"), user.active ? "yes" : "no",
             EnumArgument.text(user.mailboxStatus, prefix: "MAILBOX_STATUS_")]
        })
    }

    static func role(_ text: String) throws -> UserRole {
        try EnumArgument.parse(text, UserRole.allKnown, prefix: "USER_ROLE_", field: "role")
    }

    struct List: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "List the company's users.")
        @OptionGroup var options: ClientOptions
        @Flag(help: "Include deactivated users.") var includeInactive = false
        func call(_ client: MailSync.Client) async throws {
            var request = ListUsersRequest()
            request.pageSize = 500
            request.includeInactive = includeInactive
            let all = try await allPages(request, token: \.pageToken) { page in
                let response = try await client.listUsers(page)
                return (response.users, response.nextPageToken)
            }
            output(all, table: UsersCommand.table(all))
        }
    }

    struct Create: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user (the CRM's id for them).")
        @OptionGroup var options: ClientOptions
        @Option(help: "The CRM's user id.") var id: String
        @Option(help: "Their name.") var name: String
        @Option(help: "Their email address.") var email: String
        @Option(help: "administrator, company-manager, marketing-manager, sales-manager, salesperson, junior-salesperson.")
        var role: String = "salesperson"
        func call(_ client: MailSync.Client) async throws {
            var request = CreateUserRequest()
            request.id = id
            request.name = name
            request.email = email
            request.role = try UsersCommand.role(role)
            let user = try await client.createUser(request)
            output(user, table: UsersCommand.table([user]))
        }
    }

    struct SetRole: AdminCommand {
        static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Change a user's role.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The user's id.") var id: String
        @Argument(help: "The new role.") var role: String
        func call(_ client: MailSync.Client) async throws {
            var request = ChangeUserRoleRequest()
            request.userId = id
            request.role = try UsersCommand.role(role)
            let user = try await client.changeUserRole(request)
            output(user, table: UsersCommand.table([user]))
        }
    }

    struct Deactivate: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deactivate a user: their keys are revoked and their mailbox disabled.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The user's id.") var id: String
        @Option(help: "keep or remove the email their mailbox synced.") var previous: String
        func call(_ client: MailSync.Client) async throws {
            var request = DeactivateUserRequest()
            request.userId = id
            request.previousCommunication = try EnumArgument.parse(
                previous, PreviousCommunication.allKnown, prefix: "PREVIOUS_COMMUNICATION_", field: "--previous")
            let user = try await client.deactivateUser(request)
            output(user, table: UsersCommand.table([user]))
        }
    }
}

/// `mailsync settings …` (a company's administrators).
struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Show or change the company's settings.", subcommands: [Get.self, Set.self])

    static func table(_ settings: CompanySettings) -> Table {
        .fields([
            ("plan", EnumArgument.text(settings.plan, prefix: "PLAN_")),
            ("time zone", settings.timeZone),
            ("prevent internal email sync", settings.preventInternalEmailSync ? "yes" : "no"),
            ("email domains", settings.emailDomains.joined(separator: ", ")),
            ("mailbox sync limit", "\(settings.limits.mailboxSyncLimit)"),
            ("synced emails per user per day", settings.limits.syncedEmailsPerUserPerDay == 0 ? "plan" : "\(settings.limits.syncedEmailsPerUserPerDay)"),
            ("minimum poll interval (s)", "\(settings.limits.minimumPollIntervalSeconds)"),
        ])
    }

    struct Get: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Show the settings.")
        @OptionGroup var options: ClientOptions
        func call(_ client: MailSync.Client) async throws {
            let settings = try await client.getCompanySettings(GetCompanySettingsRequest())
            output(settings, table: SettingsCommand.table(settings))
        }
    }

    struct Set: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Change settings; unset options keep their value.")
        @OptionGroup var options: ClientOptions
        @Option(help: "true or false: skip email between company employees.") var preventInternalEmailSync: Bool?
        @Option(help: "IANA time zone, e.g. Europe/Berlin.") var timeZone: String?
        @Option(help: "A company email domain (repeatable; replaces the list).") var domain: [String] = []
        @Flag(help: "Clear the list of email domains.") var clearDomains = false
        func call(_ client: MailSync.Client) async throws {
            var request = UpdateCompanySettingsRequest()
            request.preventInternalEmailSync = preventInternalEmailSync
            request.timeZone = timeZone
            if clearDomains || !domain.isEmpty {
                var domains = EmailDomains()
                domains.domains = domain
                request.emailDomains = domains
            }
            let settings = try await client.updateCompanySettings(request)
            output(settings, table: SettingsCommand.table(settings))
        }
    }
}

/// `mailsync keys create|list|revoke` (over the API; `create-operator` works on the data directory).
struct RemoteKeyCommands {
    static func table(_ keys: [ApiKey]) -> Table {
        Table(["ID", "COMPANY", "ROLE", "USER", "LABEL", "PREFIX", "CREATED", "LAST USED", "REVOKED"], keys.map { key in
            [key.id, key.companyId, key.role, key.userId, key.label, key.secretPrefix, key.createdAt.text,
             key.lastUsedAt?.text ?? "-", key.revoked ? "yes" : "no"]
        })
    }

    struct Create: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key and print its secret (shown once).")
        @OptionGroup var options: ClientOptions
        @Option(help: "The company (operators; administrators make keys for their own).") var company: String = ""
        @Option(help: "The user the key acts as; the key has the user's role.") var user: String = ""
        @Option(help: "operator, for operator keys (operators only).") var role: String = ""
        @Option(help: "What the key is for.") var label: String = ""
        func call(_ client: MailSync.Client) async throws {
            var request = CreateApiKeyRequest()
            request.companyId = company
            request.userId = user
            request.role = role
            request.label = label
            let response = try await client.createApiKey(request)
            output(response, table: .fields([("id", response.key.id), ("secret (shown once)", response.secret)]))
        }
    }

    struct List: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (never their secrets).")
        @OptionGroup var options: ClientOptions
        @Option(help: "The company (operators).") var company: String = ""
        @Flag(help: "Include revoked keys.") var includeRevoked = false
        func call(_ client: MailSync.Client) async throws {
            var request = ListApiKeysRequest()
            request.companyId = company
            request.includeRevoked = includeRevoked
            request.pageSize = 500
            let all = try await allPages(request, token: \.pageToken) { page in
                let response = try await client.listApiKeys(page)
                return (response.keys, response.nextPageToken)
            }
            output(all, table: RemoteKeyCommands.table(all))
        }
    }

    struct Revoke: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key at once.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The key's id.") var id: String
        func call(_ client: MailSync.Client) async throws {
            var request = RevokeApiKeyRequest()
            request.keyId = id
            let key = try await client.revokeApiKey(request)
            output(key, table: RemoteKeyCommands.table([key]))
        }
    }
}
