import JSON

/// Random JSON values from a fixed seed (a failure replays).
struct JSONGenerator {
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
