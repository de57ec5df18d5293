/// Percent-encoding for the EC2 Query API.
///
/// The body uses form style (`+` for a space): AWS accepts it, and it is also how moto
/// re-encodes a body before checking its signature (moto 5.2.1 hashes its own re-encoding,
/// so a `%20` body fails there although AWS accepts it). Everything but RFC 3986's unreserved
/// characters is escaped, so the bytes sent are the bytes signed on both.
///
///     FormEncoding.body([("Action", "DescribeInstances"), ("Filter.1.Value.1", "a b")])
///     // "Action=DescribeInstances&Filter.1.Value.1=a+b"
import DriverSupport
public enum FormEncoding {
    /// RFC 3986 escaping, as SigV4's canonical forms require (space is `%20`).
    public static func awsEscape(_ s: String) -> String { escape(s, spaceAsPlus: false) }

    /// An `application/x-www-form-urlencoded` body, parameters in the given order.
    public static func body(_ params: [(String, String)]) -> String {
        params.map { escape($0.0, spaceAsPlus: true) + "=" + escape($0.1, spaceAsPlus: true) }.joined(separator: "&")
    }

    private static func escape(_ s: String, spaceAsPlus: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count)
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: " ") where spaceAsPlus:
                out.append(UInt8(ascii: "+"))
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The parameters of one EC2 Query API call, in order, with helpers for EC2's numbered lists
/// (`InstanceId.1`, `Filter.2.Value.1`, `TagSpecification.1.Tag.3.Key`).
///
///     var p = QueryParams(action: "TerminateInstances")
///     p.list("InstanceId", ["i-1", "i-2"])
public struct QueryParams: Sendable, Equatable {
    public static let apiVersion = "2016-11-15"
    public private(set) var items: [Pair]

    public struct Pair: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public init(action: String, version: String = QueryParams.apiVersion) {
        items = [Pair(name: "Action", value: action), Pair(name: "Version", value: version)]
    }

    public var action: String { self["Action"] ?? "" }

    public mutating func set(_ name: String, _ value: String) { items.append(Pair(name: name, value: value)) }

    public mutating func list(_ prefix: String, _ values: [String]) {
        for (i, v) in values.enumerated() { set("\(prefix).\(i + 1)", v) }
    }

    /// `prefix.N.Key` / `prefix.N.Value`, keys sorted so requests are reproducible.
    public mutating func tags(_ prefix: String, _ tags: [String: String]) {
        for (i, key) in tags.keys.sorted().enumerated() {
            set("\(prefix).\(i + 1).Key", key)
            set("\(prefix).\(i + 1).Value", tags[key]!)
        }
    }

    /// `Filter.N.Name` with its values.
    public mutating func filters(_ filters: [(String, [String])]) {
        for (i, f) in filters.enumerated() {
            set("Filter.\(i + 1).Name", f.0)
            list("Filter.\(i + 1).Value", f.1)
        }
    }

    public subscript(name: String) -> String? { items.first { $0.name == name }?.value }

    public var body: String { FormEncoding.body(items.map { ($0.name, $0.value) }) }
}
