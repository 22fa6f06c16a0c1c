/// The rules for a service's areas (`area Name;`, and `area = Name;` in each rpc): the groups the
/// generator turns into one handler protocol each.
extension Checker {
    /// The area's handler protocol, nested in the service: `Companies` → `CompaniesHandler`.
    static func handlerProtocol(area: String) -> String { area + "Handler" }

    /// Reports, for one service: an area name that is not UpperCamelCase, declared twice, becomes
    /// the same Swift parameter as another (`APIKeys` and `ApiKeys`), or whose protocol would hide a
    /// type of the schema or the runtime; an rpc without an area or naming an undeclared one; an
    /// area no rpc names (its protocol would be empty and its parameter useless).
    mutating func checkAreas(of service: ServiceDecl) {
        var declared: [String: SourceLocation] = [:]
        var parameters: [String: String] = [:]
        for area in service.areas {
            if let previous = declared[area.name] {
                sink.error(area.location, "duplicate area '\(area.name)' in service '\(service.name)'; first declared at \(previous)")
                continue
            }
            declared[area.name] = area.location
            let parameter = Naming.lowerCamel(fromUpperCamel: area.name)
            let handler = Self.handlerProtocol(area: area.name)
            if !Naming.isUpperCamel(area.name) {
                sink.error(area.location, "area name '\(area.name)' must be UpperCamelCase, for example '\(Self.suggestUpperCamel(area.name))'")
            } else if let other = parameters[parameter] {
                sink.error(area.location, "areas '\(other)' and '\(area.name)' both become the parameter '\(parameter)' in Swift; rename one")
            } else if Self.reservedTypeNames.contains(handler) || symbols[handler] != nil {
                sink.error(area.location, "area '\(area.name)' becomes the protocol '\(service.name).\(handler)', which would hide the type '\(handler)' in generated code; rename the area")
            }
            parameters[parameter] = parameters[parameter] ?? area.name
        }
        let known = service.areas.map(\.name).uniqued()
        var used: Set<String> = []
        for rpc in service.rpcs {
            guard let area = rpc.area, let location = rpc.areaLocation else {
                let hint = known.isEmpty
                    ? "declare the service's areas with 'area Name;' and add 'area = Name;' to the rpc"
                    : "add 'area = Name;' naming one of: \(known.joined(separator: ", "))"
                sink.error(rpc.location, "rpc '\(rpc.name)' names no area, so no handler would implement it: \(hint)")
                continue
            }
            used.insert(area)
            if declared[area] == nil {
                let hint = known.isEmpty ? "" : ", or use one of: \(known.joined(separator: ", "))"
                sink.error(location, "unknown area '\(area)'; declare it in service '\(service.name)' with 'area \(area);'\(hint)")
            }
        }
        for area in service.areas where declared[area.name] == area.location && !used.contains(area.name) {
            sink.error(area.location, "area '\(area.name)' has no rpcs: name it in an rpc with 'area = \(area.name);', or remove it")
        }
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each only the first time it appears.
    fileprivate func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
