import Foundation
import MailSyncCoding

/// Any generated message (or array of them) as JSON with the schema's snake_case field names:
/// enums by their schema name, timestamps in ISO 8601, unknown fields left out.
///
/// Built by reflection over the generated structs, so a new field appears without a code change.
enum JSONOutput {
    static func render(_ value: Any) -> String {
        let object = convert(value)
        guard JSONSerialization.isValidJSONObject(object) || type(of: object) == [Any].self,
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) else {
            return "\(object)"
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func convert(_ value: Any) -> Any {
        switch value {
        case let text as String: return text
        case let flag as Bool: return flag
        case let number as any BinaryInteger: return Int64(number)
        case let number as Double: return number
        case let number as Float: return Double(number)
        case let time as Timestamp: return iso8601(time)
        case let enumeration as any OpenEnum: return enumeration.name ?? Int(enumeration.rawValue)
        // By type, not by cast: an empty array of anything casts to [UInt8] (and printed "").
        case let bytes as [UInt8] where type(of: value) == [UInt8].self: return Data(bytes).base64EncodedString()
        case is UnknownFields: return NSNull()
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.map { convert($0.value) } ?? NSNull()
        case .collection, .set:
            return mirror.children.map { convert($0.value) }
        case .dictionary:
            var object: [String: Any] = [:]
            for child in mirror.children {
                let pair = Mirror(reflecting: child.value).children.map(\.value)
                if pair.count == 2 { object["\(pair[0])"] = convert(pair[1]) }
            }
            return object
        case .struct, .class:
            var object: [String: Any] = [:]
            for child in mirror.children {
                guard let label = child.label, label != "unknownFields" else { continue }
                object[snakeCase(label.hasPrefix("_") ? String(label.dropFirst()) : label)] = convert(child.value)
            }
            return object
        default:
            return "\(value)"
        }
    }

    static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase {
                out += "_" + character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }

    static func iso8601(_ time: Timestamp) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: time.secondsSinceEpoch))
    }
}

extension Timestamp {
    /// ISO 8601 for tables (`-` for the epoch, which the schema uses for "unset").
    var text: String { self == .epoch ? "-" : JSONOutput.iso8601(self) }
}
