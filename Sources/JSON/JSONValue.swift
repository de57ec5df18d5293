import Foundation

/// A parsed JSON document, for checking a payload against the driver schema before it is
/// decoded into a typed model.
///
///     let value = try JSONValue(parsing: Data(#"{"id": "i-1"}"#.utf8))
///     if case .object(let members) = value { print(members["id"] ?? .null) }
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value of an object member, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// JSON Schema's name for the type of this value ("integer" for whole numbers).
    var schemaTypeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The numeric value, for integer and number alike.
    var numericValue: Double? {
        switch self {
        case .integer(let i): Double(i)
        case .number(let d): d
        default: nil
        }
    }
}

extension JSONValue: Codable {
    /// A value inside a `Codable` model (text is read by `init(parsing:)`). Each kind is tried
    /// in turn, and a wrong guess costs a thrown error: strings and objects come first. The
    /// kinds are disjoint, so the order changes no result.
    public init(from decoder: any Decoder) throws {
        if let value = JSONValueDecoder.value(in: decoder) {  // already a tree: nothing to guess
            self = value
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let o = try? container.decode([String: JSONValue].self) {
            self = .object(o)
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .integer(i)
        } else if let d = try? container.decode(Double.self) {
            self = d.rounded() == d && abs(d) < 9.0e15 ? .integer(Int64(d)) : .number(d)
        } else {
            self = .array(try container.decode([JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .integer(let i): try container.encode(i)
        case .number(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}
