/// A recursive-descent parser for `.msrpc` files (grammar: `Schema/README.md`).
///
/// On a syntax error it records what was expected, skips to the end of the broken member (the next
/// `;` or `}`) and goes on, so one run reports every error it can.
struct Parser {
    private struct SyntaxError: Error {
        var location: SourceLocation
        var message: String
    }

    private let tokens: [Token]
    private var position = 0
    private var sink: DiagnosticSink
    private static let topLevelKeywords: Set<String> = ["package", "roles", "message", "enum", "service"]

    init(tokens: [Token], sink: DiagnosticSink) {
        self.tokens = tokens
        self.sink = sink
    }

    /// Parses the whole file; returns it with every diagnostic found so far (lexer's included).
    mutating func parseFile(path: String) -> (SchemaFile, DiagnosticSink) {
        var file = SchemaFile(path: path)
        var sawPackage = false
        while current.kind != .endOfFile {
            let start = position
            do {
                try parseTopLevel(into: &file, sawPackage: &sawPackage)
            } catch {
                report(error)
                synchronizeTopLevel(from: start)
            }
        }
        if !sawPackage {
            sink.error(SourceLocation(line: 1, column: 1), "missing package declaration: start the file with 'package name.v1;'")
        }
        return (file, sink)
    }

    // MARK: Top level

    private mutating func parseTopLevel(into file: inout SchemaFile, sawPackage: inout Bool) throws {
        let token = current
        guard token.kind == .identifier else {
            throw unexpected("'message', 'enum', 'service' or 'roles'")
        }
        switch token.text {
        case "package":
            advance()
            let (name, location) = try parseDottedName()
            try expectSymbol(";", after: "the package name")
            if sawPackage {
                sink.error(token.location, "duplicate package declaration; a file declares its package once")
            } else if !file.declarations.isEmpty || !file.roles.isEmpty {
                sink.error(token.location, "the package declaration must come first in the file")
            }
            sawPackage = true
            file.package = name
            file.packageLocation = location
        case "roles":
            advance()
            try expectSymbol("{", after: "'roles'")
            while !current.isSymbol("}") && current.kind != .endOfFile {
                let start = position
                do {
                    let name = try expectIdentifier("a role name")
                    try expectSymbol(";", after: "the role name")
                    file.roles.append(RoleDecl(name: name.text, location: name.location))
                } catch {
                    report(error)
                    synchronizeMember(from: start)
                }
            }
            try expectSymbol("}", after: "the roles")
        case "message":
            advance()
            file.declarations.append(.message(try parseMessage(doc: token.doc)))
        case "enum":
            advance()
            file.declarations.append(.enum(try parseEnum(doc: token.doc)))
        case "service":
            advance()
            file.declarations.append(.service(try parseService(doc: token.doc)))
        default:
            throw unexpected("'message', 'enum', 'service' or 'roles'")
        }
    }

    private mutating func parseDottedName() throws -> (String, SourceLocation) {
        let first = try expectIdentifier("a package name such as 'mailsync.v1'")
        var name = first.text
        while current.isSymbol(".") {
            advance()
            name += "." + (try expectIdentifier("a name after '.'")).text
        }
        return (name, first.location)
    }

    // MARK: Messages

    private mutating func parseMessage(doc: [String]) throws -> MessageDecl {
        let name = try expectIdentifier("a message name")
        var message = MessageDecl(name: name.text, location: name.location, doc: doc)
        try expectSymbol("{", after: "the message name")
        while !current.isSymbol("}") && current.kind != .endOfFile {
            let start = position
            do {
                if current.isKeyword("reserved") {
                    message.reserved.append(try parseReserved())
                } else if current.isKeyword("interval"), peek(1).kind == .identifier, peek(2).isKeyword("to") {
                    message.intervals.append(try parseInterval())
                } else {
                    message.fields.append(try parseField())
                }
            } catch {
                report(error)
                synchronizeMember(from: start)
            }
        }
        try expectSymbol("}", after: "the fields of message '\(name.text)'")
        return message
    }

    private mutating func parseField() throws -> FieldDecl {
        let first = current
        var label = FieldDecl.Label.singular
        if first.isKeyword("optional") || first.isKeyword("repeated"), peek(1).kind == .identifier {
            label = first.isKeyword("optional") ? .optional : .repeated
            advance()
        }
        let type = try parseType()
        let name = try expectIdentifier("a field name")
        try expectSymbol("=", after: "the field name")
        let number = try expectInteger("a field number")
        let options = current.isSymbol("[") ? try parseFieldOptions() : []
        try expectSymbol(";", after: options.isEmpty ? "the field number" : "the field options")
        return FieldDecl(
            label: label, labelLocation: first.location, type: type, name: name.text, location: name.location,
            number: number.value, numberLocation: number.location, doc: first.doc, options: options)
    }

    /// `interval start to end [options];`
    private mutating func parseInterval() throws -> IntervalDecl {
        let keyword = current
        advance()
        let start = try expectIdentifier("the interval's start field")
        advance() // `to`, checked by the caller
        let end = try expectIdentifier("the interval's end field after 'to'")
        let options = current.isSymbol("[") ? try parseFieldOptions() : []
        try expectSymbol(";", after: "the interval")
        return IntervalDecl(
            start: start.text, startLocation: start.location, end: end.text, endLocation: end.location,
            options: options, location: keyword.location)
    }

    /// `[name = value, ...]`: a value is an integer, a name (`true`), or a range
    /// `low to high` whose ends are integers, quoted times, `min` or `max`.
    private mutating func parseFieldOptions() throws -> [FieldOption] {
        try expectSymbol("[", after: "the field number")
        var options: [FieldOption] = []
        repeat {
            if !options.isEmpty { advance() }
            let name = try expectIdentifier("an option name such as 'max_length'")
            try expectSymbol("=", after: "the option name '\(name.text)'")
            let valueToken = current
            let value: FieldOption.Value
            if valueToken.kind == .identifier, valueToken.text != "min", valueToken.text != "max" {
                advance()
                value = .name(valueToken.text)
            } else {
                let first = try parseRangeEnd()
                if current.isKeyword("to") {
                    advance()
                    value = .range(first, try parseRangeEnd())
                } else if case .integer(let n) = first {
                    value = .integer(n)
                } else {
                    throw SyntaxError(location: current.location, message: "expected 'to' after \(valueToken.quoted), found \(current.quoted): a range reads 'low to high'")
                }
            }
            let valueLocation = valueToken.location
            options.append(FieldOption(name: name.text, location: name.location, value: value, valueLocation: valueLocation))
        } while current.isSymbol(",")
        try expectSymbol("]", after: "the field options")
        return options
    }

    private mutating func parseRangeEnd() throws -> FieldOption.RangeEnd {
        let token = current
        switch token.kind {
        case .integer:
            return .integer(try expectInteger("a number").value)
        case .string:
            advance()
            return .time(token.text)
        case .identifier:
            advance()
            switch token.text {
            case "min": return .min
            case "max": return .max
            default: throw SyntaxError(location: token.location, message: "expected a number, a quoted time, 'min' or 'max', found \(token.quoted)")
            }
        default:
            throw unexpected("a number, a quoted time, 'min', 'max', 'true' or 'false'")
        }
    }

    private mutating func parseType() throws -> TypeRef {
        let token = try expectIdentifier("a type")
        if let scalar = ScalarType(rawValue: token.text) { return .scalar(scalar, token.location) }
        if token.text == "map" && current.isSymbol("<") {
            advance()
            let key = try parseType()
            try expectSymbol(",", after: "the map's key type")
            let value = try parseType()
            try expectSymbol(">", after: "the map's value type")
            return .map(key: key, value: value, token.location)
        }
        return .named(token.text, token.location)
    }

    private mutating func parseReserved() throws -> ReservedDecl {
        let keyword = current
        advance()
        var reserved = ReservedDecl(location: keyword.location)
        if current.kind == .string {
            repeat {
                if !reserved.names.isEmpty { advance() }
                guard current.kind == .string else { throw unexpected("a quoted name") }
                reserved.names.append(current.text)
                advance()
            } while current.isSymbol(",")
        } else {
            repeat {
                if !reserved.ranges.isEmpty { advance() }
                let low = try expectInteger("a field number or a quoted name")
                var high = low.value
                if current.isKeyword("to") {
                    advance()
                    if current.isKeyword("max") {
                        advance()
                        high = Checker.maxFieldNumber
                    } else {
                        high = try expectInteger("a number or 'max' after 'to'").value
                    }
                }
                guard low.value <= high else {
                    throw SyntaxError(location: low.location, message: "reserved range \(low.value) to \(high) is empty: the first number must not exceed the second")
                }
                reserved.ranges.append(low.value...high)
            } while current.isSymbol(",")
        }
        try expectSymbol(";", after: "the reserved list")
        return reserved
    }

    // MARK: Enums

    private mutating func parseEnum(doc: [String]) throws -> EnumDecl {
        let name = try expectIdentifier("an enum name")
        var decl = EnumDecl(name: name.text, location: name.location, doc: doc)
        try expectSymbol("{", after: "the enum name")
        while !current.isSymbol("}") && current.kind != .endOfFile {
            let start = position
            do {
                if current.isKeyword("reserved") {
                    decl.reserved.append(try parseReserved())
                } else {
                    let valueName = try expectIdentifier("an enum value name")
                    try expectSymbol("=", after: "the enum value name")
                    let number = try expectInteger("the value's number")
                    try expectSymbol(";", after: "the value's number")
                    decl.values.append(EnumValueDecl(
                        name: valueName.text, location: valueName.location, number: number.value,
                        numberLocation: number.location, doc: valueName.doc))
                }
            } catch {
                report(error)
                synchronizeMember(from: start)
            }
        }
        try expectSymbol("}", after: "the values of enum '\(name.text)'")
        return decl
    }

    // MARK: Services

    private mutating func parseService(doc: [String]) throws -> ServiceDecl {
        let name = try expectIdentifier("a service name")
        var service = ServiceDecl(name: name.text, location: name.location, doc: doc)
        try expectSymbol("{", after: "the service name")
        while !current.isSymbol("}") && current.kind != .endOfFile {
            let start = position
            do {
                if current.isKeyword("area") {
                    service.areas.append(try parseArea())
                } else {
                    service.rpcs.append(try parseRPC())
                }
            } catch {
                report(error)
                synchronizeMember(from: start)
            }
        }
        try expectSymbol("}", after: "the rpcs of service '\(name.text)'")
        return service
    }

    /// `area Name;`
    private mutating func parseArea() throws -> AreaDecl {
        let keyword = current
        advance()
        let name = try expectIdentifier("an area name")
        try expectSymbol(";", after: "the area name")
        return AreaDecl(name: name.text, location: name.location, doc: keyword.doc)
    }

    private mutating func parseRPC() throws -> RPCDecl {
        let keyword = current
        guard keyword.isKeyword("rpc") else { throw unexpected("'rpc' or 'area'") }
        advance()
        let name = try expectIdentifier("an rpc name")
        try expectSymbol("(", after: "the rpc name")
        let requestStreams = consumeKeyword("stream")
        let request = try expectIdentifier("a request message type")
        try expectSymbol(")", after: "the request type")
        guard current.isKeyword("returns") else { throw unexpected("'returns'") }
        advance()
        try expectSymbol("(", after: "'returns'")
        let responseStreams = consumeKeyword("stream")
        let response = try expectIdentifier("a response message type")
        try expectSymbol(")", after: "the response type")
        var rpc = RPCDecl(
            name: name.text, location: name.location, doc: keyword.doc, request: request.text,
            requestLocation: request.location, requestStreams: requestStreams, response: response.text,
            responseLocation: response.location, responseStreams: responseStreams)
        if current.isSymbol(";") {
            advance()
            return rpc
        }
        try expectSymbol("{", after: "the response type (options such as 'roles = [...];' go in braces)")
        var seen: Set<String> = []
        while !current.isSymbol("}") && current.kind != .endOfFile {
            let start = position
            do {
                try parseOption(into: &rpc, seen: &seen)
            } catch {
                report(error)
                synchronizeMember(from: start)
            }
        }
        try expectSymbol("}", after: "the options of rpc '\(name.text)'")
        return rpc
    }

    private static let optionNames = "'area', 'roles', 'manage_others', 'idempotent' or 'not_yet_served'"

    /// One `name = value;` in an rpc's braces. `seen` holds the options already read, for the
    /// duplicates the parser reports itself.
    private mutating func parseOption(into rpc: inout RPCDecl, seen: inout Set<String>) throws {
        let option = try expectIdentifier("an rpc option (\(Self.optionNames))")
        try expectSymbol("=", after: "the option name")
        switch option.text {
        case "area":
            let area = try expectIdentifier("an area name")
            try expectSymbol(";", after: "the option")
            if rpc.area != nil {
                sink.error(option.location, "duplicate option 'area': an rpc belongs to exactly one area")
            } else {
                rpc.area = area.text
                rpc.areaLocation = area.location
            }
        case "roles":
            let roles = try parseRoleList(after: "'roles ='")
            if rpc.roles != nil {
                sink.error(option.location, "duplicate option 'roles': list every role in one 'roles = [...]'")
            } else {
                rpc.roles = roles
                rpc.rolesLocation = option.location
            }
        case "manage_others":
            let roles = try parseRoleList(after: "'manage_others ='")
            if rpc.manageOthers != nil {
                sink.error(option.location, "duplicate option 'manage_others': list every role in one 'manage_others = [...]'")
            } else {
                rpc.manageOthers = roles
                rpc.manageOthersLocation = option.location
            }
        case "idempotent", "not_yet_served":
            let value = try expectIdentifier("'true' or 'false'")
            guard value.text == "true" || value.text == "false" else {
                throw SyntaxError(location: value.location, message: "expected 'true' or 'false', found \(value.quoted)")
            }
            try expectSymbol(";", after: "the option")
            if !seen.insert(option.text).inserted { sink.error(option.location, "duplicate option '\(option.text)'") }
            if option.text == "idempotent" {
                rpc.idempotent = value.text == "true"
            } else {
                rpc.notYetServed = value.text == "true"
            }
        default:
            throw SyntaxError(
                location: option.location,
                message: "unknown rpc option '\(option.text)'; expected \(Self.optionNames)")
        }
    }

    /// `[a, b, ...];` — the bracketed role list of an option and its closing `;`.
    private mutating func parseRoleList(after context: String) throws -> [RoleDecl] {
        try expectSymbol("[", after: context)
        var roles: [RoleDecl] = []
        if !current.isSymbol("]") {
            repeat {
                if !roles.isEmpty { advance() }
                let role = try expectIdentifier("a role name")
                roles.append(RoleDecl(name: role.text, location: role.location))
            } while current.isSymbol(",")
        }
        try expectSymbol("]", after: "the role list")
        try expectSymbol(";", after: "the option")
        return roles
    }

    // MARK: Tokens

    private var current: Token { tokens[position] }

    private func peek(_ offset: Int) -> Token { tokens[min(position + offset, tokens.count - 1)] }

    private mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    private mutating func consumeKeyword(_ keyword: String) -> Bool {
        guard current.isKeyword(keyword), peek(1).kind == .identifier else { return false }
        advance()
        return true
    }

    private mutating func expectIdentifier(_ what: String) throws -> Token {
        guard current.kind == .identifier else { throw unexpected(what) }
        defer { advance() }
        return current
    }

    private mutating func expectInteger(_ what: String) throws -> (value: Int, location: SourceLocation) {
        guard current.kind == .integer else { throw unexpected(what) }
        defer { advance() }
        // Out-of-range literals clamp, so the checker reports them as out of range once.
        let value = Int(current.text) ?? (current.text.hasPrefix("-") ? Int.min : Int.max)
        return (value, current.location)
    }

    private mutating func expectSymbol(_ symbol: String, after context: String) throws {
        guard current.isSymbol(symbol) else { throw unexpected("'\(symbol)' after \(context)") }
        advance()
    }

    private func unexpected(_ expected: String) -> SyntaxError {
        SyntaxError(location: current.location, message: "expected \(expected), found \(current.quoted)")
    }

    private mutating func report(_ error: any Error) {
        guard let error = error as? SyntaxError else { return }
        sink.error(error.location, error.message)
    }

    /// Skips to just after the next `;` or before the next `}` of the current block; nested braces
    /// are skipped whole. Always moves past at least one token so parsing makes progress.
    private mutating func synchronizeMember(from start: Int) {
        var depth = 0
        if position == start && !current.isSymbol("}") { advance() }
        while current.kind != .endOfFile {
            if current.isSymbol("{") {
                depth += 1
            } else if current.isSymbol("}") {
                if depth == 0 { return }
                depth -= 1
                if depth == 0 {
                    advance()
                    return
                }
            } else if current.isSymbol(";") && depth == 0 {
                advance()
                return
            }
            advance()
        }
    }

    /// Skips to the next top-level keyword outside braces, or past the block the error was in.
    private mutating func synchronizeTopLevel(from start: Int) {
        var depth = 0
        if position == start { advance() }
        while current.kind != .endOfFile {
            if current.isSymbol("{") {
                depth += 1
            } else if current.isSymbol("}") {
                depth -= 1
                if depth <= 0 {
                    advance()
                    return
                }
            } else if depth == 0 && current.kind == .identifier && Self.topLevelKeywords.contains(current.text) {
                return
            }
            advance()
        }
    }
}
