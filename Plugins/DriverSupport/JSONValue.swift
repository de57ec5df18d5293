import Foundation

/// Any JSON value, decoded strictly (`true` is never the number 1, `1` never a boolean, which
/// config checking needs and `JSONSerialization`'s NSNumbers blur), and encodable, so cloud
/// bodies are built and read as plain trees without a model type per resource.
///
///     let vm = JSONValue.parse(bytes)
///     let state = vm?["properties"]["provisioningState"].string   // "Succeeded"
public enum JSONValue: Codable, Sendable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        // Whole numbers below 2^53 as integers: `2`, never `2.0`.
        case .number(let n): if n == n.rounded(), abs(n) < 9e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public static func parse(_ bytes: some Collection<UInt8>) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) }
    public static func parse(_ text: String) -> JSONValue? { parse(Data(text.utf8)) }

    /// Compact, keys sorted: the same tree always gives the same bytes.
    public var data: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    public var bytes: [UInt8] { Array(data) }

    /// A member of an object; `.null` for anything else, so paths read without optionals.
    public subscript(key: String) -> JSONValue {
        if case .object(let o) = self { return o[key] ?? .null }
        return .null
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var number: Double? { if case .number(let n) = self { n } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    /// A whole number, or an int64 as Google's discovery format sends it (a decimal string).
    public var int: Int64? {
        switch self {
        case .number(let n) where n == n.rounded(): Int64(exactly: n)
        case .string(let s): Int64(s)
        default: nil
        }
    }
    /// A string map (tags, labels): non-string members are left out.
    public var stringMap: [String: String] { (object ?? [:]).compactMapValues(\.string) }

    public static func strings(_ map: [String: String]) -> JSONValue { .object(map.mapValues { .string($0) }) }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral,
                     ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(elements) { $1 }) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}
