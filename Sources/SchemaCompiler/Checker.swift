/// Checks a parsed schema: names, numbers, types, roles and recursion. Reports every problem it
/// finds; generated code is only produced for a file without any.
struct Checker {
    /// The largest field number the wire format can carry (2^29 - 1).
    static let maxFieldNumber = 536_870_911
    /// The role every method may name to be callable without credentials.
    static let anyoneRole = "anyone"
    /// The platform operator's role: it runs the platform and belongs to no company, so it owns no
    /// per-user resources and cannot be in `manage_others`.
    static let operatorRole = "operator"

    /// Names generated code could not use for a type without hiding a Swift or runtime type, or a
    /// type the generator nests inside each service.
    static let reservedTypeNames: Set<String> = [
        "Message", "OpenEnum", "Timestamp", "WireReader", "WireWriter", "WireType", "UnknownFields",
        "DecodingError", "DecodingLimits", "MethodDescriptor", "ServerContext", "ServerMethod", "RPCClient",
        "RPCError", "CallOptions", "ResponseStream", "RequestWriter", "RequestStream", "ResponseWriter",
        "Metadata", "Status", "StatusCode", "String", "Int", "Int32", "Int64", "UInt8", "UInt32", "UInt64",
        "Bool", "Double", "Array", "Dictionary", "Optional", "Sendable", "Hashable", "Error", "Never",
        "Client", "Handler", "Method", "UnimplementedHandler",
    ]
    /// Field names whose Swift form would clash with a member every generated message has.
    static let reservedFieldNames: Set<String> = ["unknownFields", "hashValue", "self", "init", "deinit", "subscript"]
    /// Enum value names whose Swift form would clash with a member every generated enum has.
    static let reservedEnumCaseNames: Set<String> = ["allKnown", "rawValue", "name", "description", "self", "init", "hashValue"]
    static let mapKeyTypes: Set<ScalarType> = [.string, .int32, .int64, .uint32, .uint64]

    enum Symbol: Equatable {
        case message
        case `enum`
        case service
    }

    private let file: SchemaFile
    var sink: DiagnosticSink
    /// Every declared type name (filled by `checkTypeNames` before anything else is checked).
    var symbols: [String: Symbol] = [:]

    init(file: SchemaFile, sink: DiagnosticSink) {
        self.file = file
        self.sink = sink
    }

    mutating func check() -> DiagnosticSink {
        checkPackage()
        let roles = checkRoles()
        checkTypeNames()
        for declaration in file.declarations {
            switch declaration {
            case .message(let message): check(message)
            case .enum(let decl): check(decl)
            case .service(let service): check(service, roles: roles)
            }
        }
        checkRecursion()
        return sink
    }

    // MARK: Package and roles

    private mutating func checkPackage() {
        guard !file.package.isEmpty else { return }
        for part in file.package.split(separator: ".", omittingEmptySubsequences: false)
        where !Naming.isLowerSnake(String(part)) {
            sink.error(file.packageLocation, "package name '\(file.package)' must be dotted lower_snake_case parts, such as 'mailsync.v1'")
            return
        }
    }

    private mutating func checkRoles() -> Set<String> {
        var seen: [String: SourceLocation] = [:]
        for role in file.roles {
            if role.name == Self.anyoneRole {
                sink.error(role.location, "'anyone' is built in (callable without credentials); do not declare it")
            } else if !Naming.isLowerSnake(role.name) {
                sink.error(role.location, "role name '\(role.name)' must be lower_snake_case")
            } else if let first = seen[role.name] {
                sink.error(role.location, "duplicate role '\(role.name)'; first declared at \(first)")
            }
            seen[role.name] = seen[role.name] ?? role.location
        }
        return Set(seen.keys)
    }

    // MARK: Types

    private mutating func checkTypeNames() {
        var first: [String: SourceLocation] = [:]
        for declaration in file.declarations {
            let (name, location, symbol, kind): (String, SourceLocation, Symbol, String) =
                switch declaration {
                case .message(let m): (m.name, m.location, .message, "message")
                case .enum(let e): (e.name, e.location, .enum, "enum")
                case .service(let s): (s.name, s.location, .service, "service")
                }
            if let previous = first[name] {
                sink.error(location, "duplicate type name '\(name)'; first declared at \(previous)")
                continue
            }
            first[name] = location
            symbols[name] = symbol
            if !Naming.isUpperCamel(name) {
                sink.error(location, "\(kind) name '\(name)' must be UpperCamelCase, for example '\(Self.suggestUpperCamel(name))'")
            } else if Self.reservedTypeNames.contains(name) {
                sink.error(location, "'\(name)' would hide a Swift or runtime type of that name in generated code; choose another name")
            }
        }
    }

    private mutating func check(_ message: MessageDecl) {
        var numbers: [Int: String] = [:]
        var names: [String: SourceLocation] = [:]
        var swiftNames: [String: String] = [:]
        let reservedNumbers = message.reserved.flatMap(\.ranges)
        let reservedNames = Set(message.reserved.flatMap(\.names))
        for field in message.fields {
            if !Naming.isLowerSnake(field.name) {
                sink.error(field.location, "field name '\(field.name)' must be lower_snake_case, for example '\(Self.suggestLowerSnake(field.name))'")
            } else if let previous = names[field.name] {
                sink.error(field.location, "duplicate field name '\(field.name)' in message '\(message.name)'; first declared at \(previous)")
            } else if reservedNames.contains(field.name) {
                sink.error(field.location, "field name '\(field.name)' is reserved in message '\(message.name)'; pick another name")
            } else {
                let swiftName = Naming.lowerCamel(fromSnake: field.name)
                if Self.reservedFieldNames.contains(swiftName) {
                    sink.error(field.location, "field name '\(field.name)' clashes with the generated member '\(swiftName)'; pick another name")
                } else if let other = swiftNames[swiftName] {
                    sink.error(field.location, "fields '\(other)' and '\(field.name)' both become '\(swiftName)' in Swift; rename one")
                }
                swiftNames[swiftName] = swiftNames[swiftName] ?? field.name
            }
            names[field.name] = names[field.name] ?? field.location

            if !(1...Self.maxFieldNumber).contains(field.number) {
                sink.error(field.numberLocation, "field number \(Self.spell(field.number)) is out of range: use 1 to \(Self.maxFieldNumber)")
            } else if let other = numbers[field.number] {
                sink.error(field.numberLocation, "field number \(field.number) is already used by '\(other)' in message '\(message.name)'")
            } else if reservedNumbers.contains(where: { $0.contains(field.number) }) {
                sink.error(field.numberLocation, "field number \(field.number) is reserved in message '\(message.name)'; use an unused number")
            }
            numbers[field.number] = numbers[field.number] ?? field.name

            checkFieldType(field)
            let symbols = self.symbols
            for (location, problem) in FieldBounds.resolve(field, isEnum: { symbols[$0] == .enum }).problems {
                sink.error(location, problem)
            }
        }
        for interval in message.intervals {
            for (location, problem) in IntervalBounds.resolve(interval, in: message).problems {
                sink.error(location, problem)
            }
        }
    }

    private mutating func checkFieldType(_ field: FieldDecl) {
        switch field.type {
        case .scalar: break
        case .named(let name, let location): checkValueType(name, at: location)
        case .map(let key, let value, _):
            if field.label != .singular {
                sink.error(field.labelLocation, "a map field cannot be '\(field.label.rawValue)': maps are already optional and repeated")
            }
            if case .scalar(let scalar, _) = key, Self.mapKeyTypes.contains(scalar) {
            } else {
                sink.error(key.location, "invalid map key type '\(key.spelling)': use string, int32, int64, uint32 or uint64")
            }
            switch value {
            case .scalar: break
            case .named(let name, let location): checkValueType(name, at: location)
            case .map(_, _, let location): sink.error(location, "a map value cannot be a map; wrap the inner map in a message")
            }
        }
    }

    private mutating func checkValueType(_ name: String, at location: SourceLocation) {
        switch symbols[name] {
        case .message, .enum: break
        case .service: sink.error(location, "'\(name)' is a service, not a message or enum")
        case nil: sink.error(location, "unknown type '\(name)'; declare a message or enum with that name, or use a scalar type")
        }
    }

    private mutating func check(_ decl: EnumDecl) {
        guard let first = decl.values.first else {
            sink.error(decl.location, "enum '\(decl.name)' has no values; add '\(Naming.upperSnake(fromUpperCamel: decl.name))_UNSPECIFIED = 0;'")
            return
        }
        if first.number != 0 {
            sink.error(first.numberLocation, "the first value of enum '\(decl.name)' must be 0 (the default), for example '\(Naming.upperSnake(fromUpperCamel: decl.name))_UNSPECIFIED = 0;'")
        }
        var numbers: [Int: String] = [:]
        var names: Set<String> = []
        var swiftNames: [String: String] = [:]
        let reservedNumbers = decl.reserved.flatMap(\.ranges)
        let reservedNames = Set(decl.reserved.flatMap(\.names))
        for value in decl.values {
            if !Naming.isUpperSnake(value.name) {
                sink.error(value.location, "enum value name '\(value.name)' must be UPPER_SNAKE_CASE")
            } else if names.contains(value.name) {
                sink.error(value.location, "duplicate enum value name '\(value.name)' in enum '\(decl.name)'")
            } else if reservedNames.contains(value.name) {
                sink.error(value.location, "enum value name '\(value.name)' is reserved in enum '\(decl.name)'")
            } else {
                let swiftName = Naming.enumCase(value.name, enumName: decl.name)
                if Self.reservedEnumCaseNames.contains(swiftName) {
                    sink.error(value.location, "enum value '\(value.name)' becomes '\(swiftName)', which clashes with a generated member; rename it")
                } else if let other = swiftNames[swiftName] {
                    sink.error(value.location, "enum values '\(other)' and '\(value.name)' both become '\(swiftName)' in Swift; rename one")
                }
                swiftNames[swiftName] = swiftNames[swiftName] ?? value.name
            }
            names.insert(value.name)
            if !(Int(Int32.min)...Int(Int32.max)).contains(value.number) {
                sink.error(value.numberLocation, "enum value \(Self.spell(value.number)) does not fit in int32")
            } else if let other = numbers[value.number] {
                sink.error(value.numberLocation, "enum value number \(value.number) is already used by '\(other)' in enum '\(decl.name)'")
            } else if reservedNumbers.contains(where: { $0.contains(value.number) }) {
                sink.error(value.numberLocation, "enum value number \(value.number) is reserved in enum '\(decl.name)'")
            }
            numbers[value.number] = numbers[value.number] ?? value.name
        }
    }

    // MARK: Services

    private mutating func check(_ service: ServiceDecl, roles: Set<String>) {
        checkAreas(of: service)
        var names: [String: SourceLocation] = [:]
        for rpc in service.rpcs {
            if !Naming.isUpperCamel(rpc.name) {
                sink.error(rpc.location, "rpc name '\(rpc.name)' must be UpperCamelCase, for example '\(Self.suggestUpperCamel(rpc.name))'")
            } else if let previous = names[rpc.name] {
                sink.error(rpc.location, "duplicate rpc name '\(rpc.name)' in service '\(service.name)'; first declared at \(previous)")
            } else if ["rpc", "serverMethods"].contains(Naming.lowerCamel(fromUpperCamel: rpc.name)) {
                sink.error(rpc.location, "rpc name '\(rpc.name)' clashes with a generated member; rename it")
            }
            names[rpc.name] = names[rpc.name] ?? rpc.location
            checkMessageType(rpc.request, at: rpc.requestLocation, role: "request")
            checkMessageType(rpc.response, at: rpc.responseLocation, role: "response")
            if rpc.requestStreams && rpc.responseStreams {
                sink.error(rpc.location, "rpc '\(rpc.name)' streams both ways, which is not supported yet: make the request or the response a single message")
            }
            checkRoles(of: rpc, declared: roles)
            checkManageOthers(of: rpc, declared: roles)
        }
    }

    private mutating func checkMessageType(_ name: String, at location: SourceLocation, role: String) {
        switch symbols[name] {
        case .message: break
        case .enum, .service: sink.error(location, "the \(role) type '\(name)' must be a message")
        case nil: sink.error(location, "unknown type '\(name)'; declare 'message \(name) { ... }'")
        }
    }

    private mutating func checkRoles(of rpc: RPCDecl, declared: Set<String>) {
        guard let roles = rpc.roles, let rolesLocation = rpc.rolesLocation else {
            sink.error(rpc.location, "rpc '\(rpc.name)' declares no roles: add '{ roles = [role, ...]; }' naming who may call it, or 'roles = [anyone]' for calls without credentials")
            return
        }
        if roles.isEmpty {
            sink.error(rolesLocation, "rpc '\(rpc.name)' has an empty role list, so nobody could call it; name at least one role")
        }
        var seen: Set<String> = []
        for role in roles {
            if role.name != Self.anyoneRole && !declared.contains(role.name) {
                let known = (declared.sorted() + [Self.anyoneRole]).joined(separator: ", ")
                sink.error(role.location, "unknown role '\(role.name)'; declare it in 'roles { ... }' or use one of: \(known)")
            } else if !seen.insert(role.name).inserted {
                sink.error(role.location, "role '\(role.name)' is listed twice")
            }
        }
        if seen.contains(Self.anyoneRole) && roles.count > 1, let role = roles.first(where: { $0.name == Self.anyoneRole }) {
            sink.error(role.location, "'anyone' already lets every caller in; list it alone")
        }
    }

    /// `manage_others` names, among the rpc's own roles, those that may act on other users'
    /// resources; the option is meaningless for callers without an identity or a company.
    private mutating func checkManageOthers(of rpc: RPCDecl, declared: Set<String>) {
        guard let others = rpc.manageOthers, let location = rpc.manageOthersLocation else { return }
        if others.isEmpty {
            sink.error(location, "rpc '\(rpc.name)' has an empty 'manage_others' list: name the roles that may act on other users' resources, or leave the option out when the rpc has no own-versus-others rule")
        }
        let callers = Set((rpc.roles ?? []).map(\.name))
        var seen: Set<String> = []
        for role in others {
            if role.name == Self.anyoneRole {
                sink.error(role.location, "'anyone' cannot be in 'manage_others': a caller without credentials has no identity, so it owns nothing and may never act on other users' resources")
            } else if role.name == Self.operatorRole {
                sink.error(role.location, "'operator' cannot be in 'manage_others': the platform operator belongs to no company and owns no mailbox, so own versus others does not apply; give operators their own rpc that names the company")
            } else if !declared.contains(role.name) {
                sink.error(role.location, "unknown role '\(role.name)' in 'manage_others'; declare it in 'roles { ... }' and list it in the rpc's 'roles'")
            } else if !seen.insert(role.name).inserted {
                sink.error(role.location, "role '\(role.name)' is listed twice in 'manage_others'")
            } else if rpc.roles != nil && !callers.contains(role.name) {
                sink.error(role.location, "role '\(role.name)' in 'manage_others' may not call '\(rpc.name)': add it to the rpc's 'roles' too, or remove it here")
            }
        }
    }

    // MARK: Recursion

    /// A message may contain itself only through a repeated or map field: a singular (or optional)
    /// chain back to itself would have no finite default value.
    private mutating func checkRecursion() {
        let messages = Dictionary(file.messages.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func singularEdges(_ name: String) -> [(field: FieldDecl, target: String)] {
            (messages[name]?.fields ?? []).compactMap { field in
                guard field.label != .repeated, case .named(let target, _) = field.type, messages[target] != nil else { return nil }
                return (field, target)
            }
        }
        var reported: Set<Set<String>> = []
        for message in file.messages {
            for (field, target) in singularEdges(message.name) {
                guard let path = shortestPath(from: target, to: message.name, edges: singularEdges) else { continue }
                let cycle = Set(path + [message.name])
                guard reported.insert(cycle).inserted else { continue }
                let route = ([message.name] + path).joined(separator: " → ")
                sink.error(field.location, "message '\(message.name)' contains itself through field '\(field.name)' (\(route)); recursion is only allowed through a repeated or map field")
            }
        }
    }

    /// Message names from `start` to `goal` inclusive, along singular fields; nil when unreachable.
    private func shortestPath(
        from start: String, to goal: String, edges: (String) -> [(field: FieldDecl, target: String)]
    ) -> [String]? {
        var previous: [String: String] = [:]
        var queue = [start]
        var visited: Set<String> = [start]
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            if node == goal {
                var path = [node]
                while let p = previous[path[0]] { path.insert(p, at: 0) }
                return path
            }
            for (_, target) in edges(node) where visited.insert(target).inserted {
                previous[target] = node
                queue.append(target)
            }
        }
        return nil
    }

    // MARK: Suggestions

    /// A number as written; literals beyond 64 bits were clamped by the parser.
    private static func spell(_ number: Int) -> String {
        number == Int.max ? "(beyond 64 bits)" : number == Int.min ? "(below -2^63)" : "\(number)"
    }

    static func suggestUpperCamel(_ name: String) -> String {
        name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func suggestLowerSnake(_ name: String) -> String {
        var result = ""
        for c in name.unicodeScalars {
            if c >= "A" && c <= "Z" {
                if !result.isEmpty && !result.hasSuffix("_") { result += "_" }
                result += String(c).lowercased()
            } else {
                result.unicodeScalars.append(c)
            }
        }
        return result
    }
}
