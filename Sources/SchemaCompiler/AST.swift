/// A parsed schema file, in declaration order. Nothing here has been checked yet; see `Checker`.
public struct SchemaFile: Sendable, Hashable {
    /// The path the file was read from, as given (used in diagnostics and in generated headers).
    public var path: String
    /// The dotted package name, for example `mailsync.v1`; empty if the declaration is missing.
    public var package: String = ""
    public var packageLocation = SourceLocation(line: 1, column: 1)
    public var roles: [RoleDecl] = []
    /// Messages, enums and services in the order they appear.
    public var declarations: [Declaration] = []

    public init(path: String) { self.path = path }

    public var messages: [MessageDecl] {
        declarations.compactMap { if case .message(let m) = $0 { m } else { nil } }
    }
    public var enums: [EnumDecl] {
        declarations.compactMap { if case .enum(let e) = $0 { e } else { nil } }
    }
    public var services: [ServiceDecl] {
        declarations.compactMap { if case .service(let s) = $0 { s } else { nil } }
    }
}

public enum Declaration: Sendable, Hashable {
    case message(MessageDecl)
    case `enum`(EnumDecl)
    case service(ServiceDecl)
}

public struct RoleDecl: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
}

/// `reserved 4, 9 to 11;` or `reserved "old_name";`
public struct ReservedDecl: Sendable, Hashable {
    public var ranges: [ClosedRange<Int>] = []
    public var names: [String] = []
    public var location: SourceLocation
}

public struct MessageDecl: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var doc: [String]
    public var fields: [FieldDecl] = []
    public var reserved: [ReservedDecl] = []
}

public struct FieldDecl: Sendable, Hashable {
    public enum Label: String, Sendable, Hashable {
        case singular = ""
        case optional
        case repeated
    }

    public var label: Label
    public var labelLocation: SourceLocation
    public var type: TypeRef
    public var name: String
    public var location: SourceLocation
    public var number: Int
    public var numberLocation: SourceLocation
    public var doc: [String]
}

/// The scalar types of the language.
public enum ScalarType: String, Sendable, Hashable, CaseIterable {
    case int32, int64, uint32, uint64, bool, double, string, bytes, timestamp
}

/// A field's type as written.
public indirect enum TypeRef: Sendable, Hashable {
    case scalar(ScalarType, SourceLocation)
    /// A message or enum, by name.
    case named(String, SourceLocation)
    case map(key: TypeRef, value: TypeRef, SourceLocation)

    public var location: SourceLocation {
        switch self {
        case .scalar(_, let l), .named(_, let l), .map(_, _, let l): l
        }
    }

    /// The type as it reads in the schema.
    public var spelling: String {
        switch self {
        case .scalar(let s, _): s.rawValue
        case .named(let n, _): n
        case .map(let k, let v, _): "map<\(k.spelling), \(v.spelling)>"
        }
    }
}

public struct EnumDecl: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var doc: [String]
    public var values: [EnumValueDecl] = []
    public var reserved: [ReservedDecl] = []
}

public struct EnumValueDecl: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var number: Int
    public var numberLocation: SourceLocation
    public var doc: [String]
}

public struct ServiceDecl: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var doc: [String]
    public var rpcs: [RPCDecl] = []
}

public struct RPCDecl: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var doc: [String]
    public var request: String
    public var requestLocation: SourceLocation
    public var requestStreams: Bool
    public var response: String
    public var responseLocation: SourceLocation
    public var responseStreams: Bool
    /// nil when the rpc has no `roles = [...]` option.
    public var roles: [RoleDecl]?
    public var rolesLocation: SourceLocation?
    /// `manage_others = [...]`: the roles (among `roles`) that may act on other users' resources;
    /// callers with the rpc's other roles act only on their own. nil when the option is absent, in
    /// which case the rpc has no own-versus-others rule.
    public var manageOthers: [RoleDecl]?
    public var manageOthersLocation: SourceLocation?
    public var idempotent: Bool = false
}
