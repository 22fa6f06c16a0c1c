import MailSyncClient

extension ServerSettings {
    /// The quotas these settings describe (defaults where unset).
    ///
    /// - Throws: `SettingsError` for a value out of range or an unknown plan name.
    public func quotaSettings() throws -> QuotaSettings {
        var quotas = QuotaSettings()
        if let v = keyRequestsPerSecond {
            guard v.isFinite, (0...1_000_000).contains(v) else { throw SettingsError("keyRequestsPerSecond must be 0...1000000 (0: off), got \(v)") }
            quotas.keyRequestsPerSecond = v
        }
        if let v = keyRequestBurst {
            guard (1...1_000_000).contains(v) else { throw SettingsError("keyRequestBurst must be 1...1000000, got \(v)") }
            quotas.keyRequestBurst = v
        }
        func megabytes(_ value: Int, _ name: String) throws -> Int64 {
            guard (1...(1 << 30)).contains(value) else { throw SettingsError("\(name) must be 1...\(1 << 30) MiB, got \(value)") }
            return Int64(value) << 20
        }
        if let v = tenantDatabaseMaxMB { quotas.databaseBytes = try megabytes(v, "tenantDatabaseMaxMB") }
        for (name, value) in planDatabaseMaxMB ?? [:] {
            let wanted = name.uppercased().hasPrefix("PLAN_") ? name.uppercased() : "PLAN_" + name.uppercased()
            guard let plan = Plan.allKnown.first(where: { $0.name == wanted && $0 != .unspecified }) else {
                let names = Plan.allKnown.dropFirst().compactMap { $0.name?.dropFirst(5) }.joined(separator: ", ")
                throw SettingsError("planDatabaseMaxMB names an unknown plan '\(name)'; plans are \(names)")
            }
            quotas.databaseBytesByPlan[plan] = try megabytes(value, "planDatabaseMaxMB.\(name)")
        }
        if let v = maxLeadsPerCompany {
            guard (1...100_000_000).contains(v) else { throw SettingsError("maxLeadsPerCompany must be 1...100000000, got \(v)") }
            quotas.maxLeads = v
        }
        if let v = maxLeadAddressesPerCompany {
            guard (1...1_000_000_000).contains(v) else { throw SettingsError("maxLeadAddressesPerCompany must be 1...1000000000, got \(v)") }
            quotas.maxLeadAddresses = v
        }
        return quotas
    }
}
