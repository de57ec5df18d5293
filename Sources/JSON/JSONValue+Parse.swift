import Foundation

/// JSON text read straight into a `JSONValue` (RFC 8259, strict). Decoding through `Codable`
/// had to guess each node's kind and paid a thrown error for every wrong guess: 250–400 ms for
/// a 10,000-instance list reply, where this takes a fraction of that.
///
///     let value = try JSONValue(parsing: Data(#"{"id": "i-1", "tags": {}}"#.utf8))
///
/// Stricter than the standard requires where leniency would let a payload mean two things:
/// an object naming a member twice, a string that is not valid UTF-8 or holds a lone surrogate
/// escape, and numbers too large for a `Double` are refused. Nesting is limited to
/// `maxDepth` levels, so no input can exhaust the stack.
extension JSONValue {
    /// Deepest nesting of arrays and objects accepted.
    public static let maxDepth = 512

    /// Why a text is not one JSON value, and at which byte.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public let offset: Int
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Parses UTF-8 JSON text; throws `ParseError` on anything that is not exactly one JSON
    /// value, with white space around it allowed.
    public init(parsing data: Data) throws(ParseError) {
        let parsed = data.withUnsafeBytes { raw in
            var parser = Parser(bytes: raw.bindMemory(to: UInt8.self))
            return Result { () throws(ParseError) in try parser.document() }
        }
        self = try parsed.get()
    }
}

private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func document() throws(JSONValue.ParseError) -> JSONValue {
        let value = try self.value()
        skipSpace()
        guard at == bytes.count else { throw fail("text after the value") }
        return value
    }

    private mutating func value() throws(JSONValue.ParseError) -> JSONValue {
        skipSpace()
        guard at < bytes.count else { throw fail("the text ends where a value should be") }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try nested { (p: inout Parser) throws(JSONValue.ParseError) in try p.object() }
        case UInt8(ascii: "["): return try nested { (p: inout Parser) throws(JSONValue.ParseError) in try p.array() }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try word("true", .bool(true))
        case UInt8(ascii: "f"): return try word("false", .bool(false))
        case UInt8(ascii: "n"): return try word("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character '\(Unicode.Scalar(bytes[at]))'")
        }
    }

    private mutating func nested(_ body: (inout Parser) throws(JSONValue.ParseError) -> JSONValue) throws(JSONValue.ParseError) -> JSONValue {
        depth += 1
        guard depth <= JSONValue.maxDepth else { throw fail("nested deeper than \(JSONValue.maxDepth) levels") }
        defer { depth -= 1 }
        return try body(&self)
    }

    private mutating func object() throws(JSONValue.ParseError) -> JSONValue {
        at += 1  // {
        var members: [String: JSONValue] = [:]
        skipSpace()
        if take(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
            let nameOffset = at
            let name = try string()
            skipSpace()
            guard take(UInt8(ascii: ":")) else { throw fail("expected ':' after a member name") }
            let member = try value()
            guard members.updateValue(member, forKey: name) == nil else {
                throw JSONValue.ParseError(reason: "member \"\(name)\" appears twice", offset: nameOffset)
            }
            skipSpace()
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { throw fail("expected ',' or '}' in an object") }
        return .object(members)
    }

    private mutating func array() throws(JSONValue.ParseError) -> JSONValue {
        at += 1  // [
        var items: [JSONValue] = []
        skipSpace()
        if take(UInt8(ascii: "]")) { return .array(items) }
        repeat {
            items.append(try value())
            skipSpace()
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "]")) else { throw fail("expected ',' or ']' in an array") }
        return .array(items)
    }

    /// A string from its opening quote. Runs without escapes are taken whole.
    private mutating func string() throws(JSONValue.ParseError) -> String {
        at += 1  // "
        var text: [UInt8] = []
        var runStart = at
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                let result: String?
                if text.isEmpty {
                    result = String(validating: UnsafeBufferPointer(rebasing: bytes[runStart..<at]), as: UTF8.self)
                } else {
                    text += bytes[runStart..<at]
                    result = String(validating: text, as: UTF8.self)
                }
                guard let result else { throw JSONValue.ParseError(reason: "a string that is not valid UTF-8", offset: runStart) }
                at += 1
                return result
            }
            if byte < 0x20 { throw fail("a control character inside a string (escape it)") }
            if byte == UInt8(ascii: "\\") {
                text += bytes[runStart..<at]
                try escape(into: &text)
                runStart = at
            } else {
                at += 1
            }
        }
        throw fail("a string without its closing quote")
    }

    /// One escape sequence from its backslash, appended as UTF-8.
    private mutating func escape(into text: inout [UInt8]) throws(JSONValue.ParseError) {
        at += 1  // backslash
        guard at < bytes.count else { throw fail("a string without its closing quote") }
        let letter = bytes[at]
        at += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(letter)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "u"):
            var code = UInt32(try hex4())
            if (0xD800..<0xDC00).contains(code) {  // a high surrogate: its low half must follow
                guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")) else { throw fail("a lone surrogate escape") }
                let low = UInt32(try hex4())
                guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate escape") }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(code) {
                throw fail("a lone surrogate escape")
            }
            text += String(Character(Unicode.Scalar(code)!)).utf8
        default:
            at -= 1
            throw fail("an unknown escape '\\\(Unicode.Scalar(letter))'")
        }
    }

    private mutating func hex4() throws(JSONValue.ParseError) -> UInt16 {
        guard at + 4 <= bytes.count else { throw fail("a \\u escape needs four hex digits") }
        var code: UInt16 = 0
        for _ in 0..<4 {
            let digit: UInt8
            switch bytes[at] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = bytes[at] - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = bytes[at] - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = bytes[at] - UInt8(ascii: "A") + 10
            default: throw fail("a \\u escape needs four hex digits")
            }
            code = code << 4 | UInt16(digit)
            at += 1
        }
        return code
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. A whole number is an integer,
    /// as the `Codable` reading made it: in `Int64` range, or written with a fraction or an
    /// exponent and exactly representable (below 2⁵³).
    private mutating func number() throws(JSONValue.ParseError) -> JSONValue {
        let start = at
        _ = take(UInt8(ascii: "-"))
        guard at < bytes.count, isDigit(bytes[at]) else { throw fail("a '-' without digits") }
        if bytes[at] == UInt8(ascii: "0") {
            at += 1
            if at < bytes.count, isDigit(bytes[at]) { throw fail("a number with a leading zero") }
        } else {
            skipDigits()
        }
        var whole = true
        if take(UInt8(ascii: ".")) {
            whole = false
            guard at < bytes.count, isDigit(bytes[at]) else { throw fail("a '.' without digits after it") }
            skipDigits()
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            whole = false
            at += 1
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            guard at < bytes.count, isDigit(bytes[at]) else { throw fail("an exponent without digits") }
            skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        if whole, let i = Int64(text) { return .integer(i) }
        guard let d = Double(text), d.isFinite else {
            throw JSONValue.ParseError(reason: "a number too large to represent", offset: start)
        }
        return d.rounded() == d && abs(d) < 9.0e15 ? .integer(Int64(d)) : .number(d)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while at < bytes.count, isDigit(bytes[at]) { at += 1 }
    }

    private mutating func word(_ word: StaticString, _ value: JSONValue) throws(JSONValue.ParseError) -> JSONValue {
        let count = word.utf8CodeUnitCount
        guard at + count <= bytes.count,
            word.withUTF8Buffer({ expected in (0..<count).allSatisfy { bytes[at + $0] == expected[$0] } })
        else { throw fail("unexpected character '\(Unicode.Scalar(bytes[at]))'") }
        at += count
        return value
    }

    private mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard at < bytes.count, bytes[at] == byte else { return false }
        at += 1
        return true
    }

    private func fail(_ reason: String) -> JSONValue.ParseError { JSONValue.ParseError(reason: reason, offset: at) }
}
