import Foundation
import JSON
import Testing

/// `JSONValue.serialized()`: what a checked driver reply is decoded from, so it must read back as
/// exactly the value it was written from.
@Suite struct JSONSerializeTests {
    @Test func textReadsBackAsTheSameValue() throws {
        var random = Generator(seed: 18)
        for _ in 0..<500 {
            let value = random.value(depth: 0)
            let text = value.serialized()
            #expect(try JSONValue(parsing: Data(text)) == value, "\(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test func stringsAreEscapedAsJSONRequires() throws {
        let s = "quote \" backslash \\ slash / newline \n tab \t nul \u{0} bell \u{7} del \u{7F} é 😀 \u{2028} end"
        let text = String(decoding: JSONValue.object([s: .string(s)]).serialized(), as: UTF8.self)
        for escaped in [#"\""#, #"\\"#, #"\u000a"#, #"\u0009"#, #"\u0000"#, #"\u0007"#] { #expect(text.contains(escaped), "\(escaped)") }
        #expect(!text.contains("\n") && !text.contains("\u{0}"), "no raw control character")
        #expect(try JSONValue(parsing: Data(text.utf8)) == .object([s: .string(s)]))
        #expect(try JSONDecoder().decode([String: String].self, from: Data(text.utf8)) == [s: s], "Foundation reads it alike")
    }

    @Test func numbersKeepTheirKindAndValue() throws {
        let values: [JSONValue] = [
            .integer(0), .integer(-1), .integer(.max), .integer(.min), .number(0.5), .number(-1.25e-300), .number(1.7976931348623157e308),
            .number(1e20), .number(0.1), .number(123_456.789),
        ]
        for value in values {
            let text = String(decoding: value.serialized(), as: UTF8.self)
            #expect(try JSONValue(parsing: Data(text.utf8)) == value, "\(text)")
        }
    }
}

/// Random JSON values from a fixed seed (a failure replays).
private struct Generator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 11
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func string() -> String {
        let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "é", "😀", "\u{2028}", "{", "]", ","]
        return String((0..<below(12)).map { _ in alphabet[below(alphabet.count)] })
    }

    mutating func value(depth: Int) -> JSONValue {
        switch below(depth > 3 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(below(2) == 0)
        case 2: return .integer(Int64(bitPattern: next() << 11) >> Int64(below(60)))
        case 3:
            let d = Double(below(2_000_001) - 1_000_000) / 1000
            return .number(d.rounded() == d ? d + 0.25 : d)  // never whole: a whole one parses as an integer
        case 4: return .string(string())
        case 5: return .array((0..<below(5)).map { _ in value(depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<below(5) { members[string()] = value(depth: depth + 1) }
            return .object(members)
        }
    }
}
