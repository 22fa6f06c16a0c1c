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
    /// `interval start to end [max_days = n];` declarations, in order.
    public var intervals: [IntervalDecl] = []
}

/// `interval period_start to period_end [max_days = 366];`: two timestamp fields of the message
/// form an interval, `start <= end`, at most `max_days` days long when given.
public struct IntervalDecl: Sendable, Hashable {
    public var start: String
    public var startLocation: SourceLocation
    public var end: String
    public var endLocation: SourceLocation
    /// The options in brackets, as written (`max_days` is the only one the checker accepts).
    public var options: [FieldOption] = []
    public var location: SourceLocation
}

/// One `name = value` in a field's (or an interval's) brackets, as written. The checker decides
/// whether it applies to the field's type; `Bound` resolves checked options.
public struct FieldOption: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        case integer(Int)
        /// `true` or `false`, or another bare name (refused by the checker).
        case name(String)
        /// `low to high`.
        case range(RangeEnd, RangeEnd)
    }

    /// One end of a `range`: a number, a quoted time (`"2000-01-01"`, `"2000-01-01T12:00:00Z"`),
    /// or `min` / `max` of the field's type.
    public enum RangeEnd: Sendable, Hashable {
        case integer(Int)
        case time(String)
        case min
        case max
    }

    public var name: String
    public var location: SourceLocation
    public var value: Value
    public var valueLocation: SourceLocation
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
    /// The options in brackets after the number (`[max_length = 200]`), as written.
    public var options: [FieldOption] = []
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
    /// `area Name;` declarations, in order: each becomes a handler protocol `<Name>Handler`.
    public var areas: [AreaDecl] = []
    public var rpcs: [RPCDecl] = []
}

/// `area Companies;` in a service: a group of its rpcs that one handler type implements. The
/// generator emits `<Service>.<Name>Handler` with one requirement per rpc of the area.
public struct AreaDecl: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var doc: [String]
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
    /// `area = Name;`: the service area whose handler implements the rpc. nil when absent (an
    /// error the checker reports).
    public var area: String?
    public var areaLocation: SourceLocation?
    /// `not_yet_served = true;`: the rpc is declared but deliberately not served yet; its area's
    /// handler protocol gets a default answering `unimplemented`. Defaults to `false`.
    public var notYetServed: Bool = false
}
