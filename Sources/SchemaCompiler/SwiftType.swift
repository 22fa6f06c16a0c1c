/// How one schema field maps to Swift: its type, default, and the runtime calls that code it.
struct FieldCoding {
    /// What kind of value a field's element is, after resolving names.
    enum Element: Equatable {
        case scalar(ScalarType)
        case `enum`(String)
        case message(String)

        var swiftType: String {
            switch self {
            case .scalar(let s):
                switch s {
                case .int32: "Int32"
                case .int64: "Int64"
                case .uint32: "UInt32"
                case .uint64: "UInt64"
                case .bool: "Bool"
                case .double: "Double"
                case .string: "String"
                case .bytes: "[UInt8]"
                case .timestamp: "Timestamp"
                }
            case .enum(let name), .message(let name): name
            }
        }

        /// The value a singular field holds when absent.
        var defaultValue: String {
            switch self {
            case .scalar(let s):
                switch s {
                case .int32, .int64, .uint32, .uint64, .double: "0"
                case .bool: "false"
                case .string: "\"\""
                case .bytes: "[]"
                case .timestamp: ".epoch"
                }
            case .enum(let name): "\(name)(rawValue: 0)"
            case .message(let name): "\(name)()"
            }
        }

        /// The suffix of the runtime's `read…`/`write…`/`writePacked…` methods.
        var runtimeName: String {
            switch self {
            case .scalar(let s):
                switch s {
                case .int32: "Int32"
                case .int64: "Int64"
                case .uint32: "UInt32"
                case .uint64: "UInt64"
                case .bool: "Bool"
                case .double: "Double"
                case .string: "String"
                case .bytes: "Bytes"
                case .timestamp: "Timestamp"
                }
            case .enum: "Enum"
            case .message: "Message"
            }
        }

        /// Whether a repeated field of this element is written packed.
        var isPackable: Bool {
            switch self {
            case .scalar(let s): s != .string && s != .bytes
            case .enum: true
            case .message: false
            }
        }

        /// Swift condition under which a singular value `v` is written (proto3: omit the default);
        /// nil means always.
        func presenceCondition(_ v: String) -> String? {
            switch self {
            case .scalar(let s):
                switch s {
                case .int32, .int64, .uint32, .uint64: "\(v) != 0"
                case .bool: v
                case .double: "\(v).bitPattern != 0"
                case .string, .bytes: "!\(v).isEmpty"
                case .timestamp: "\(v) != .epoch"
                }
            case .enum: "\(v).rawValue != 0"
            case .message: nil
            }
        }

        /// An expression reading one value; generic reads name the type so inference never guesses.
        func read(reader: String, field: String, wireType: String) -> String {
            let call = "try \(reader).read\(runtimeName)(field: \(field), wireType: \(wireType))"
            switch self {
            case .scalar: return call
            case .enum(let name), .message(let name): return "\(call) as \(name)"
            }
        }
    }

    enum Shape: Equatable {
        case singular
        case optional
        case repeated
        case map(key: ScalarType)
    }

    var shape: Shape
    var element: Element

    var swiftType: String {
        switch shape {
        case .singular: element.swiftType
        case .optional: element.swiftType + "?"
        case .repeated: "[\(element.swiftType)]"
        case .map(let key): "[\(Element.scalar(key).swiftType): \(element.swiftType)]"
        }
    }

    var defaultValue: String {
        switch shape {
        case .singular: element.defaultValue
        case .optional: "nil"
        case .repeated: "[]"
        case .map: "[:]"
        }
    }
}
