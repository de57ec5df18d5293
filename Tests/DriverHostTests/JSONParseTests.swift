import Foundation
import JSON
import Testing

/// `JSONValue(parsing:)`: every plugin reply and API body goes through it, so it must read what
/// Foundation reads, refuse what is not JSON with a reason, and survive any input.
@Suite struct JSONParseTests {
    @Test(arguments: [false, true])
    func readsWhatFoundationWritesAsTheCodableReadingDid(pretty: Bool) throws {
        var random = JSONGenerator(seed: 7)
        let encoder = JSONEncoder()
        if pretty { encoder.outputFormatting = [.prettyPrinted, .sortedKeys] }  // white space everywhere it may be
        for _ in 0..<300 {
            let value = random.value(depth: 0)
            let text = try encoder.encode(value)
            let parsed = try JSONValue(parsing: text)
            #expect(parsed == value, "\(String(decoding: text, as: UTF8.self))")
            #expect(parsed == (try JSONDecoder().decode(JSONValue.self, from: text)))
        }
    }

    @Test func numbersKeepTheirKindAndValue() throws {
        let values: [JSONValue] = [
            .integer(0), .integer(-1), .integer(.max), .integer(.min), .number(0.5), .number(-1.25e-300), .number(1.7976931348623157e308),
            .number(1e20), .number(0.1), .number(123_456.789),
        ]
        for value in values {
            let text = try JSONEncoder().encode(value)
            #expect(try JSONValue(parsing: text) == value, "\(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test(arguments: [
        (" 1 ", JSONValue.integer(1)), ("-0", .integer(0)), ("1.0", .integer(1)), ("1e2", .integer(100)), ("2.5E-1", .number(0.25)),
        ("-9223372036854775808", .integer(.min)), ("9223372036854775808", .number(9_223_372_036_854_775_808)),
        ("1e300", .number(1e300)), (#""\u00e9\ud83d\ude00\/\b\f\n\r\t""#, .string("é😀/\u{8}\u{C}\n\r\t")),
        (#""é😀""#, .string("é😀")), (#""""#, .string("")), ("[]", .array([])), ("{}", .object([:])),
        (#"{"a":[true,false,null],"b":{}}"#, .object(["a": .array([.bool(true), .bool(false), .null]), "b": .object([:])])),
    ])
    func readsEachKind(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(parsing: Data(text.utf8)) == expected)
    }

    /// Not JSON by RFC 8259 (Foundation refuses each too), each refused with its reason and place.
    @Test(arguments: [
        ("", "the text ends where a value should be at byte 0"), ("  ", "the text ends where a value should be at byte 2"),
        ("01", "a number with a leading zero at byte 1"), ("1.", "a '.' without digits after it at byte 2"),
        (".5", "unexpected character '.' at byte 0"), ("+1", "unexpected character '+' at byte 0"), ("-", "a '-' without digits at byte 1"),
        ("1e", "an exponent without digits at byte 2"), ("1e400", "a number too large to represent at byte 0"),
        (#""\x""#, #"an unknown escape '\x' at byte 2"#), ("\"a\u{1}\"", "a control character inside a string (escape it) at byte 2"),
        (#""abc"#, "a string without its closing quote at byte 4"), (#""\u12"#, #"a \u escape needs four hex digits at byte 3"#),
        ("tru", "unexpected character 't' at byte 0"), ("nul", "unexpected character 'n' at byte 0"),
        ("[1 2]", "expected ',' or ']' in an array at byte 3"),
        (#"{"a" 1}"#, "expected ':' after a member name at byte 5"), ("{1:2}", "expected a member name in quotes at byte 1"),
        ("1 2", "text after the value at byte 2"), ("NaN", "unexpected character 'N' at byte 0"), ("'a'", "unexpected character ''' at byte 0"),
        ("[", "the text ends where a value should be at byte 1"), (#"{"a":1"#, "expected ',' or '}' in an object at byte 6"),
    ])
    func refusesWhatIsNotJSON(text: String, reason: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: Data(text.utf8)) }
        do { _ = try JSONValue(parsing: Data(text.utf8)) } catch { #expect("\(error)" == reason) }
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) == nil, "Foundation accepts \(text)")
    }

    /// Stricter than Foundation: where a payload could mean two things to two readers, and
    /// trailing commas (RFC 8259 has none; Foundation's `JSONSerialization` accepts them).
    @Test(arguments: [
        ("[1,]", "unexpected character ']' at byte 3"), (#"{"a":1,}"#, "expected a member name in quotes at byte 7"),
        (#"{"id":"a","id":"b"}"#, #"member "id" appears twice at byte 10"#),
        (#""\ud800""#, "a lone surrogate escape at byte 7"), (#""\udc00x""#, "a lone surrogate escape at byte 7"),
        (#""\ud800\u0041""#, "a lone surrogate escape at byte 13"),
    ])
    func refusesWhatCouldBeReadTwoWays(text: String, reason: String) {
        do {
            _ = try JSONValue(parsing: Data(text.utf8))
            Issue.record("accepted \(text)")
        } catch { #expect("\(error)" == reason) }
    }

    @Test func refusesBytesThatAreNotUTF8() {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: Data([0x22, 0x61, 0xFF, 0x22])) }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: Data([0x22, 0xC3, 0x22])) }  // a cut-off sequence
    }

    @Test func nestingIsBoundedAndNeverExhaustsTheStack() throws {
        let deepest = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        #expect(throws: Never.self) { try JSONValue(parsing: Data(deepest.utf8)) }
        let tooDeep = "[" + deepest + "]"
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: Data(tooDeep.utf8)) }
        let hostile = String(repeating: #"{"a":["#, count: 200_000)
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: Data(hostile.utf8)) }
    }

    /// Damaged documents (a byte dropped, changed or added) never crash the parser, and it never
    /// accepts one that Foundation refuses.
    @Test func damagedTextIsNeverAcceptedWhereFoundationRefusesIt() throws {
        var random = JSONGenerator(seed: 11)
        let alphabet = Array(#"{}[]:,"\ 0123456789.eE+-tfnul"#.utf8)
        var accepted = 0
        for _ in 0..<3000 {
            var bytes = [UInt8](try JSONEncoder().encode(random.value(depth: 0)))
            guard !bytes.isEmpty else { continue }
            let place = random.below(bytes.count)
            switch random.below(3) {
            case 0: bytes.remove(at: place)
            case 1: bytes[place] = alphabet[random.below(alphabet.count)]
            default: bytes.insert(alphabet[random.below(alphabet.count)], at: place)
            }
            guard let value = try? JSONValue(parsing: Data(bytes)) else { continue }
            accepted += 1
            let text = String(decoding: bytes, as: UTF8.self)
            #expect((try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil, "\(text)")
            #expect(try JSONValue(parsing: JSONEncoder().encode(value)) == value, "\(text)")
        }
        #expect(accepted > 100, "some damage leaves valid JSON (a digit changed, a space added)")
    }
}
