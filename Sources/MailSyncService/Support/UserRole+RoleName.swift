import MailSyncClient
import MailSyncTenantData

extension UserRole {
    /// The schema role a user of this role calls as (`administrator`, …, `junior_salesperson`).
    var roleName: String? {
        switch self {
        case .administrator: "administrator"
        case .companyManager: "company_manager"
        case .marketingManager: "marketing_manager"
        case .salesManager: "sales_manager"
        case .salesperson: "salesperson"
        case .juniorSalesperson: "junior_salesperson"
        default: nil
        }
    }

    init?(roleName: String) {
        guard let role = UserRole.allKnown.first(where: { $0.roleName == roleName }) else { return nil }
        self = role
    }
}

extension UserRecord.Role {
    /// The schema role a user of this role calls as (``UserRole/roleName``).
    var roleName: String { UserRole(self).roleName ?? "" }
}
