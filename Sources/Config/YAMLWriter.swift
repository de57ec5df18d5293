import JSON

/// Block-style YAML with every string double-quoted, so no value is read back as another type
/// ("no", "1e3", "null" stay strings) and no text can break out of its line.
struct YAMLWriter {
    private(set) var text = ""
    private var indent = ""
    /// The "- " of a list item, put before its first line.
    private var itemMark: String?

    mutating func line(_ key: String, _ value: String) { emit("\(key): \(value)") }
    mutating func comment(_ text: String) { emit("# \(text)") }

    mutating func section(_ key: String, _ body: (inout YAMLWriter) -> Void) {
        emit("\(key):")
        nested("  ", body)
    }

    mutating func item(_ body: (inout YAMLWriter) -> Void) {
        itemMark = "- "
        nested("  ", body)
    }

    private mutating func nested(_ step: String, _ body: (inout YAMLWriter) -> Void) {
        let outer = indent
        indent += step
        body(&self)
        indent = outer
    }

    private mutating func emit(_ content: String) {
        if let mark = itemMark {
            text += indent.dropLast(2) + mark + content + "\n"
            itemMark = nil
        } else {
            text += indent + content + "\n"
        }
    }

    /// A double-quoted scalar (YAML's escapes are a superset of JSON's).
    func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _
            where scalar.value < 0x20 || scalar.value == 0x7f || (0x80...0x9f).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0xfeff:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A JSON value in flow style, keys sorted: one line, read back to the same value.
    func flow(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .integer(let i): "\(i)"
        case .number(let d): "\(d)"  // Swift prints the shortest text that reads back the same, with a "."
        case .string(let s): string(s)
        case .array(let items): "[" + items.map(flow).joined(separator: ", ") + "]"
        case .object(let members):
            "{" + members.sorted { $0.key < $1.key }.map { "\(string($0.key)): \(flow($0.value))" }.joined(separator: ", ") + "}"
        }
    }
}
