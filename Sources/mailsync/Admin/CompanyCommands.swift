import ArgumentParser
import MailSyncClient

/// `mailsync companies …` (operators; `limits` also for a company's administrators).
struct CompaniesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "companies", abstract: "Create, list, suspend and resume companies; change plans and limits.",
        subcommands: [List.self, Get.self, Create.self, Suspend.self, Resume.self, ChangePlan.self, SetLimits.self])

    static func table(_ companies: [Company]) -> Table {
        Table(["ID", "NAME", "PLAN", "STATE", "SYNC LIMIT", "EMAILS/DAY", "POLL (s)"], companies.map { company in
            [company.id, company.name, EnumArgument.text(company.plan, prefix: "PLAN_"),
             EnumArgument.text(company.state, prefix: "COMPANY_STATE_"), "\(company.limits.mailboxSyncLimit)",
             company.limits.syncedEmailsPerUserPerDay == 0 ? "plan" : "\(company.limits.syncedEmailsPerUserPerDay)",
             "\(company.limits.minimumPollIntervalSeconds)"]
        })
    }

    struct List: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "List companies (operators).")
        @OptionGroup var options: ClientOptions
        func call(_ client: MailSync.Client) async throws {
            var request = ListCompaniesRequest()
            request.pageSize = 500
            let all = try await allPages(request, token: \.pageToken) { page in
                let response = try await client.listCompanies(page)
                return (response.companies, response.nextPageToken)
            }
            output(all, table: CompaniesCommand.table(all))
        }
    }

    struct Get: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Show one company.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The company's id.") var id: String
        func call(_ client: MailSync.Client) async throws {
            var request = GetCompanyRequest()
            request.companyId = id
            let company = try await client.getCompany(request)
            output(company, table: CompaniesCommand.table([company]))
        }
    }

    struct Create: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Create a company with its first administrator (operators).")
        @OptionGroup var options: ClientOptions
        @Option(help: "The company's name.") var name: String
        @Option(help: "trial, essential, advanced, ultimate, … (see `mailsync plans list`).") var plan: String
        @Option(help: "IANA time zone for daily caps (default UTC).") var timeZone: String = ""
        @Option(help: "A company email domain (repeatable).") var domain: [String] = []
        @Option(help: "The administrator's CRM user id.") var adminId: String
        @Option(help: "The administrator's name.") var adminName: String
        @Option(help: "The administrator's email address.") var adminEmail: String
        func call(_ client: MailSync.Client) async throws {
            var request = CreateCompanyRequest()
            request.name = name
            request.plan = try EnumArgument.parse(plan, Plan.allKnown, prefix: "PLAN_", field: "--plan")
            request.timeZone = timeZone
            request.emailDomains = domain
            request.administrator.id = adminId
            request.administrator.name = adminName
            request.administrator.email = adminEmail
            let company = try await client.createCompany(request)
            output(company, table: CompaniesCommand.table([company]))
        }
    }

    struct Suspend: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend a company: nothing syncs, its callers are refused.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The company's id.") var id: String
        @Option(help: "Why (shown to operators).") var reason: String
        func call(_ client: MailSync.Client) async throws {
            var request = SuspendCompanyRequest()
            request.companyId = id
            request.reason = reason
            let company = try await client.suspendCompany(request)
            output(company, table: CompaniesCommand.table([company]))
        }
    }

    struct Resume: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a suspended company.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The company's id.") var id: String
        func call(_ client: MailSync.Client) async throws {
            var request = ResumeCompanyRequest()
            request.companyId = id
            let company = try await client.resumeCompany(request)
            output(company, table: CompaniesCommand.table([company]))
        }
    }

    struct ChangePlan: AdminCommand {
        static let configuration = CommandConfiguration(commandName: "change-plan", abstract: "Move a company to another plan.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The company's id.") var id: String
        @Argument(help: "The new plan.") var plan: String
        func call(_ client: MailSync.Client) async throws {
            var request = ChangePlanRequest()
            request.companyId = id
            request.plan = try EnumArgument.parse(plan, Plan.allKnown, prefix: "PLAN_", field: "plan")
            let company = try await client.changePlan(request)
            output(company, table: CompaniesCommand.table([company]))
        }
    }

    struct SetLimits: AdminCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-limits", abstract: "Change a company's limits within its plan's caps; unset options keep their value.")
        @OptionGroup var options: ClientOptions
        @Option(help: "The company (operators; administrators change their own).") var company: String = ""
        @Option(help: "Mailboxes that may sync at once.") var mailboxSyncLimit: UInt32?
        @Option(help: "Synced emails per user per day (0: the plan's cap).") var emailsPerDay: UInt32?
        @Option(help: "Shortest time between two polls of a mailbox, in seconds.") var pollInterval: UInt32?
        func call(_ client: MailSync.Client) async throws {
            let current: CompanyLimits
            if company.isEmpty {
                current = try await client.getCompanySettings(GetCompanySettingsRequest()).limits
            } else {
                var get = GetCompanyRequest()
                get.companyId = company
                current = try await client.getCompany(get).limits
            }
            var request = SetCompanyLimitsRequest()
            request.companyId = company
            request.limits = current
            if let mailboxSyncLimit { request.limits.mailboxSyncLimit = mailboxSyncLimit }
            if let emailsPerDay { request.limits.syncedEmailsPerUserPerDay = emailsPerDay }
            if let pollInterval { request.limits.minimumPollIntervalSeconds = pollInterval }
            let updated = try await client.setCompanyLimits(request)
            output(updated, table: CompaniesCommand.table([updated]))
        }
    }
}

/// `mailsync plans …` (operators).
struct PlansCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plans", abstract: "List plans and change their caps.", subcommands: [List.self, SetCaps.self])

    static func table(_ plans: [PlanInfo]) -> Table {
        Table(["PLAN", "NAME", "LEGACY", "SYNC LIMIT", "EMAILS/DAY", "POLL (s)"], plans.map { plan in
            [EnumArgument.text(plan.plan, prefix: "PLAN_"), plan.displayName, plan.legacy ? "yes" : "no",
             "\(plan.caps.mailboxSyncLimit)",
             plan.caps.syncedEmailsPerUserPerDay == 0 ? "unlimited" : "\(plan.caps.syncedEmailsPerUserPerDay)",
             "\(plan.caps.minimumPollIntervalSeconds)"]
        })
    }

    struct List: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "List the plans and their caps.")
        @OptionGroup var options: ClientOptions
        func call(_ client: MailSync.Client) async throws {
            let plans = try await client.listPlans(ListPlansRequest()).plans
            output(plans, table: PlansCommand.table(plans))
        }
    }

    struct SetCaps: AdminCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-caps", abstract: "Change a plan's caps; companies above them are lowered to fit.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The plan.") var plan: String
        @Option(help: "Mailboxes that may sync at once.") var mailboxSyncLimit: UInt32?
        @Option(help: "Synced emails per user per day (0: unlimited).") var emailsPerDay: UInt32?
        @Option(help: "Shortest poll interval allowed, in seconds.") var pollInterval: UInt32?
        func call(_ client: MailSync.Client) async throws {
            let chosen = try EnumArgument.parse(plan, Plan.allKnown, prefix: "PLAN_", field: "plan")
            guard let current = try await client.listPlans(ListPlansRequest()).plans.first(where: { $0.plan == chosen }) else {
                throw ValidationError("the server does not know plan \(plan)")
            }
            var request = UpdatePlanCapsRequest()
            request.plan = chosen
            request.caps = current.caps
            if let mailboxSyncLimit { request.caps.mailboxSyncLimit = mailboxSyncLimit }
            if let emailsPerDay { request.caps.syncedEmailsPerUserPerDay = emailsPerDay }
            if let pollInterval { request.caps.minimumPollIntervalSeconds = pollInterval }
            let updated = try await client.updatePlanCaps(request)
            output(updated, table: PlansCommand.table([updated]))
        }
    }
}
