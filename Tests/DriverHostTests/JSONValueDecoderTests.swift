import DriverHost
import Foundation
import JSON
import Testing

/// `JSONValueDecoder`: checked plugin replies are decoded from their parsed tree, so it must
/// decode what `JSONDecoder` decodes from the same text, and fail where it fails.
@Suite struct JSONValueDecoderTests {
    struct Every: Codable, Equatable {
        var s: String
        var b: Bool
        var d: Double
        var f: Float
        var i: Int
        var i8: Int8
        var i16: Int16
        var i32: Int32
        var i64: Int64
        var u: UInt
        var u8: UInt8
        var u16: UInt16
        var u32: UInt32
        var u64: UInt64
        var missing: String?
        var null: Int?
        var list: [[Int]]
        var map: [String: Every]?
        var free: JSONValue?
    }

    let text = #"""
        {"s": "é", "b": true, "d": 2.5, "f": 1, "i": -3, "i8": -128, "i16": 300, "i32": 70000, "i64": -9223372036854775808,
         "u": 1, "u8": 255, "u16": 65535, "u32": 4294967295, "u64": 9223372036854775807, "null": null, "list": [[1, 2], []],
         "map": {"k": {"s": "", "b": false, "d": 1e300, "f": 0.5, "i": 0, "i8": 0, "i16": 0, "i32": 0, "i64": 0, "u": 0, "u8": 0,
                       "u16": 0, "u32": 0, "u64": 0, "list": [], "free": {"any": [1, "x", null]}}}}
        """#

    @Test func decodesWhatJSONDecoderDecodes() throws {
        let data = Data(text.utf8)
        let fromTree = try JSONValueDecoder().decode(Every.self, from: JSONValue(parsing: data))
        #expect(fromTree == (try JSONDecoder().decode(Every.self, from: data)))
        #expect(fromTree.map?["k"]?.free == .object(["any": .array([.integer(1), .string("x"), .null])]))
    }

    @Test func decodesAnInstanceListAsFromText() throws {
        let data = Data(
            #"""
            {"instances": [{"id": "i-1", "provider_type": "m5.large", "state": "running", "address": "10.0.0.1", "ssh_port": 2222,
                            "tags": {"set": "a"}, "preemptible": true, "price": 0.25, "extra": {"zone": "b"}},
                           {"id": "i-2", "provider_type": "m5.large", "state": "pending", "address": "", "tags": {}}]}
            """#.utf8)
        struct Reply: Codable, Equatable { var instances: [Instance] }
        let fromTree = try JSONValueDecoder().decode(Reply.self, from: JSONValue(parsing: data))
        #expect(fromTree == (try JSONDecoder().decode(Reply.self, from: data)))
        #expect(fromTree.instances.map(\.id) == ["i-1", "i-2"] && fromTree.instances[0].sshPort == 2222)
    }

    /// Each refused as `JSONDecoder` refuses it, with the coding path to the bad value.
    @Test(arguments: [
        (#"{"s": 1}"#, "s", "typeMismatch"), (#"{"i8": 128}"#, "i8", "typeMismatch"), (#"{"u": -1}"#, "u", "typeMismatch"),
        (#"{"i": 1.5}"#, "i", "typeMismatch"), (#"{"f": 1e300}"#, "f", "typeMismatch"),
        (#"{"list": [[1], ["x"]]}"#, "list.Index 1.Index 0", "typeMismatch"),
        (#"{"list": {}}"#, "list", "typeMismatch"), (#"{"map": {"k": {}}}"#, "map.k", "keyNotFound"), (#"{"b": null}"#, "b", "valueNotFound"),
    ])
    func refusesWhatJSONDecoderRefuses(patch: String, path: String, kind: String) throws {
        guard case .object(var members) = try JSONValue(parsing: Data(text.utf8)),
            case .object(let changes) = try JSONValue(parsing: Data(patch.utf8))
        else { throw CancellationError() }
        members.merge(changes) { _, new in new }
        let value = JSONValue.object(members)
        let data = try JSONEncoder().encode(value)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Every.self, from: data) }
        do {
            _ = try JSONValueDecoder().decode(Every.self, from: value)
            Issue.record("decoded \(patch)")
        } catch let error as DecodingError {
            let (name, context): (String, DecodingError.Context) =
                switch error {
                case .typeMismatch(_, let c): ("typeMismatch", c)
                case .valueNotFound(_, let c): ("valueNotFound", c)
                case .keyNotFound(let key, let c): ("keyNotFound", DecodingError.Context(codingPath: c.codingPath + [key], debugDescription: ""))
                case .dataCorrupted(let c): ("dataCorrupted", c)
                @unknown default: ("?", DecodingError.Context(codingPath: [], debugDescription: ""))
                }
            #expect(kind.split(separator: "|").contains(Substring(name)), "\(error)")
            #expect(context.codingPath.map(\.stringValue).joined(separator: ".").hasPrefix(path), "\(error)")
        }
    }
}
