/// A small JSON value with a strict parser and a compact printer.
///
/// The runner cannot use Foundation (it links fully static), and it only needs to read a
/// container spec and write one-line records, so this is all of JSON it needs:
///
///     let spec = try JSON.parse(Array(text.utf8))
///     spec["uuid"]?.string            // "abc"
///     JSON.object([("pid", .number(42))]).text   // {"pid":42}
enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    /// Keys in document order; lookups take the first match.
    case object([(String, JSON)])

    static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    var string: String? { if case .string(let s) = self { return s }; return nil }
    var number: Double? { if case .number(let n) = self { return n }; return nil }
    var isNull: Bool { if case .null = self { return true }; return false }

    /// The number as an Int when it is integral and in range.
    var int: Int? {
        guard case .number(let n) = self, n == n.rounded(), abs(n) < 9.0e15 else { return nil }
        return Int(n)
    }

    /// An optional value: `nil` becomes JSON null.
    static func from(_ value: Int?) -> JSON { value.map { .number(Double($0)) } ?? .null }
    static func from(_ value: Double?) -> JSON { value.map { .number($0) } ?? .null }
    static func from(_ value: String?) -> JSON { value.map { .string($0) } ?? .null }
}

// MARK: Printing

extension JSON {
    /// Compact text on one line: what the host reads line by line.
    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n):
            if !n.isFinite { out += "null" } else if n == n.rounded(), abs(n) < 9.0e15 { out += String(Int(n)) } else { out += n.description }
        case .string(let s): JSON.quote(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                JSON.quote(key, into: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func quote(_ s: String, into out: inout String) {
        var bytes: [UInt8] = [0x22]
        bytes.reserveCapacity(s.utf8.count + 2)
        for b in s.utf8 {
            switch b {
            case 0x22: bytes += [0x5C, 0x22]
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x0D: bytes += [0x5C, 0x72]
            case 0x09: bytes += [0x5C, 0x74]
            case 0x08: bytes += [0x5C, 0x62]
            case 0x0C: bytes += [0x5C, 0x66]
            case 0..<0x20, 0x7F:
                bytes += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
        out += String(decoding: bytes, as: UTF8.self)
    }
}

// MARK: Parsing

struct JSONError: Error, CustomStringConvertible {
    let description: String
}

extension JSON {
    /// Parses one JSON document (surrounding whitespace allowed, nothing else).
    static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSON {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    static func parse(_ text: String) throws(JSONError) -> JSON { try parse(Array(text.utf8)) }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        func error(_ message: String) -> JSONError { JSONError(description: "\(message) at byte \(at)") }

        var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func skipSpace() {
            while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { at += 1 }
        }

        mutating func literal(_ word: String, _ value: JSON) throws(JSONError) -> JSON {
            let w = Array(word.utf8)
            guard at + w.count <= bytes.count, Array(bytes[at..<at + w.count]) == w else { throw error("invalid literal") }
            at += w.count
            return value
        }

        mutating func value(depth: Int) throws(JSONError) -> JSON {
            guard depth < 256 else { throw error("nesting too deep") }
            guard let b = peek else { throw error("unexpected end of input") }
            switch b {
            case 0x7B: return try object(depth: depth)
            case 0x5B: return try array(depth: depth)
            case 0x22: return .string(try string())
            case 0x74: return try literal("true", .bool(true))
            case 0x66: return try literal("false", .bool(false))
            case 0x6E: return try literal("null", .null)
            case 0x2D, 0x30...0x39: return try number()
            default: throw error("unexpected character")
            }
        }

        mutating func object(depth: Int) throws(JSONError) -> JSON {
            at += 1
            var members: [(String, JSON)] = []
            skipSpace()
            if peek == 0x7D { at += 1; return .object(members) }
            while true {
                skipSpace()
                guard peek == 0x22 else { throw error("expected a string key") }
                let key = try string()
                skipSpace()
                guard peek == 0x3A else { throw error("expected ':'") }
                at += 1
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                switch peek {
                case 0x2C: at += 1
                case 0x7D: at += 1; return .object(members)
                default: throw error("expected ',' or '}'")
                }
            }
        }

        mutating func array(depth: Int) throws(JSONError) -> JSON {
            at += 1
            var items: [JSON] = []
            skipSpace()
            if peek == 0x5D { at += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                switch peek {
                case 0x2C: at += 1
                case 0x5D: at += 1; return .array(items)
                default: throw error("expected ',' or ']'")
                }
            }
        }

        mutating func hex4() throws(JSONError) -> UInt32 {
            guard at + 4 <= bytes.count else { throw error("short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[at]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: throw error("bad hex digit in \\u escape")
                }
                v = v << 4 | UInt32(d)
                at += 1
            }
            return v
        }

        mutating func string() throws(JSONError) -> String {
            at += 1
            var out: [UInt8] = []
            while true {
                guard let b = peek else { throw error("unterminated string") }
                at += 1
                switch b {
                case 0x22: return String(decoding: out, as: UTF8.self)
                case 0..<0x20: at -= 1; throw error("control character in string")
                case 0x5C:
                    guard let e = peek else { throw error("unterminated escape") }
                    at += 1
                    switch e {
                    case 0x22, 0x5C, 0x2F: out.append(e)
                    case 0x62: out.append(0x08)
                    case 0x66: out.append(0x0C)
                    case 0x6E: out.append(0x0A)
                    case 0x72: out.append(0x0D)
                    case 0x74: out.append(0x09)
                    case 0x75:
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code) {
                            // A high surrogate: pair it with the low one that should follow.
                            if at + 6 <= bytes.count, bytes[at] == 0x5C, bytes[at + 1] == 0x75 {
                                let save = at
                                at += 2
                                let low = try hex4()
                                if (0xDC00..<0xE000).contains(low) {
                                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                                } else {
                                    at = save
                                    code = 0xFFFD
                                }
                            } else {
                                code = 0xFFFD
                            }
                        } else if (0xDC00..<0xE000).contains(code) {
                            code = 0xFFFD
                        }
                        out += (Unicode.Scalar(code) ?? "\u{FFFD}").utf8
                    default: at -= 1; throw error("invalid escape")
                    }
                default: out.append(b)
                }
            }
        }

        mutating func number() throws(JSONError) -> JSON {
            let start = at
            if peek == 0x2D { at += 1 }
            func digits(_ p: inout Parser) -> Int {
                let s = p.at
                while let b = p.peek, (0x30...0x39).contains(b) { p.at += 1 }
                return p.at - s
            }
            let intStart = at
            let intDigits = digits(&self)
            guard intDigits > 0 else { throw error("invalid number") }
            if intDigits > 1 && bytes[intStart] == 0x30 { throw error("leading zero in number") }
            if peek == 0x2E {
                at += 1
                guard digits(&self) > 0 else { throw error("invalid number") }
            }
            if peek == 0x65 || peek == 0x45 {
                at += 1
                if peek == 0x2B || peek == 0x2D { at += 1 }
                guard digits(&self) > 0 else { throw error("invalid number") }
            }
            let text = String(decoding: bytes[start..<at], as: UTF8.self)
            guard let n = Double(text) else { throw error("invalid number") }
            return .number(n)
        }
    }
}
