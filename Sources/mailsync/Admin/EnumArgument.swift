import ArgumentParser
import MailSyncCoding

/// Parses a schema enum from what a person types: `essential`, `ESSENTIAL` or `PLAN_ESSENTIAL`,
/// dashes or underscores.
enum EnumArgument {
    static func parse<E: OpenEnum>(_ text: String, _ known: [E], prefix: String, field: String) throws -> E {
        let wanted = text.uppercased().replacingOccurrences(of: "-", with: "_")
        for value in known where value.rawValue != 0 {
            guard let name = value.name else { continue }
            if name == wanted || name == prefix + wanted { return value }
        }
        let names = known.filter { $0.rawValue != 0 }.compactMap { $0.name.map { short($0, prefix) } }
        throw ValidationError("\(field) must be one of \(names.joined(separator: ", ")); got '\(text)'")
    }

    /// The name without the enum's prefix, lower-cased: `PLAN_CRM_FREE` → `crm-free`.
    static func short(_ name: String, _ prefix: String) -> String {
        String(name.dropFirst(name.hasPrefix(prefix) ? prefix.count : 0)).lowercased().replacingOccurrences(of: "_", with: "-")
    }

    static func text<E: OpenEnum>(_ value: E, prefix: String) -> String {
        value.name.map { short($0, prefix) } ?? "unknown(\(value.rawValue))"
    }
}
