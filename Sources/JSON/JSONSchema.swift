/// A validator for the subset of JSON Schema (draft 2020-12) that the driver schema uses:
/// `type`, `enum`, `const`, `properties`, `required`, `additionalProperties`, `propertyNames`,
/// `items`, `prefixItems`, `minItems`, `maxItems`, `maxProperties`, `minLength`, `maxLength`,
/// `pattern`, `minimum`, `maximum`, `anyOf` and `$ref`s pointing into the same document ("#/$defs/name", "#/components/schemas/Name").
/// Annotations (`description`, `format`, `title`, `example`, `default`, ...) are ignored, as the
/// standard allows. It serves the driver schema and the HTTP API's OpenAPI document alike.
///
///     let schema = try JSONSchema(document: schemaValue)
///     let problems = schema.validate(reply, against: "list_reply")
///     // ["instances[0].state: \"up\" is not one of pending, running, stopping, stopped"]
///
/// Keywords outside the subset make `init` throw, so the schema file cannot silently use a
/// rule this validator would ignore.
public struct JSONSchema: Sendable {
    public struct UnsupportedKeyword: Error, CustomStringConvertible {
        public let keyword: String
        public let path: String
        public var description: String { "schema uses unsupported keyword '\(keyword)' at \(path)" }
    }

    private static let assertions: Set<String> = [
        "type", "enum", "const", "properties", "required", "additionalProperties", "propertyNames",
        "items", "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum", "$ref",
        "prefixItems", "maxProperties", "anyOf",
    ]
    private static let annotations: Set<String> = [
        "description", "format", "title", "$schema", "$id", "$defs", "example", "examples", "default",
        "readOnly", "writeOnly", "deprecated",
    ]

    private let document: JSONValue
    private let definitions: [String: JSONValue]
    /// Every `pattern` of the document, compiled once: compiling a `Regex` costs ~25 µs, matching
    /// a short string against a compiled one ~0.6 µs, and every checked string met a compile.
    private let patterns: CompiledPatterns

    /// `definitions` is the JSON pointer of the object holding the named schemas.
    public init(document: JSONValue, definitions pointer: String = "#/$defs") throws {
        guard case .object(let defs)? = Self.resolve(pointer, in: document) else {
            throw UnsupportedKeyword(keyword: "(no definitions at \(pointer))", path: "#")
        }
        self.document = document
        definitions = defs
        patterns = CompiledPatterns(in: document)
        for (name, def) in defs { try Self.checkKeywords(def, path: "\(pointer)/\(name)") }
    }

    /// The value a local JSON pointer ("#/a/b") names, or nil.
    static func resolve(_ pointer: String, in document: JSONValue) -> JSONValue? {
        guard pointer.hasPrefix("#") else { return nil }
        var node = document
        for raw in pointer.dropFirst().split(separator: "/") {
            let key = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let next = node[key] else { return nil }
            node = next
        }
        return node
    }

    /// The names of the top-level definitions.
    public var definitionNames: [String] { definitions.keys.sorted() }

    /// Every problem found validating `value` against definition `name`; empty when valid.
    public func validate(_ value: JSONValue, against name: String) -> [String] {
        guard let schema = definitions[name] else { return ["no schema definition named '\(name)'"] }
        var problems: [String] = []
        check(value, schema, path: "", into: &problems)
        return problems
    }

    private static func checkKeywords(_ schema: JSONValue, path: String) throws {
        guard case .object(let members) = schema else { return }
        for (key, sub) in members {
            guard assertions.contains(key) || annotations.contains(key) else {
                throw UnsupportedKeyword(keyword: key, path: path)
            }
            switch key {
            case "properties":
                if case .object(let props) = sub {
                    for (p, s) in props { try checkKeywords(s, path: "\(path)/properties/\(p)") }
                }
            case "items", "additionalProperties", "propertyNames":
                try checkKeywords(sub, path: "\(path)/\(key)")
            case "prefixItems", "anyOf":
                if case .array(let schemas) = sub {
                    for (i, s) in schemas.enumerated() { try checkKeywords(s, path: "\(path)/\(key)/\(i)") }
                }
            default: break
            }
        }
    }

    private func check(_ value: JSONValue, _ schema: JSONValue, path: String, into problems: inout [String]) {
        guard case .object(let rules) = schema else {
            if case .bool(false) = schema { problems.append("\(display(path)): not allowed") }
            return
        }
        if case .string(let ref)? = rules["$ref"] {
            if let target = Self.resolve(ref, in: document) {
                check(value, target, path: path, into: &problems)
            } else {
                problems.append("\(display(path)): unresolvable $ref \(ref)")
            }
        }
        if let type = rules["type"], !matches(value, type: type) {
            problems.append("\(display(path)): expected \(typeList(type)), got \(value.schemaTypeName)")
            return
        }
        if case .array(let options)? = rules["enum"], !options.contains(where: { equal($0, value) }) {
            problems.append("\(display(path)): \(render(value)) is not one of \(options.map(renderBare).joined(separator: ", "))")
        }
        if let constant = rules["const"], !equal(constant, value) {
            problems.append("\(display(path)): must be \(render(constant))")
        }
        if case .array(let alternatives)? = rules["anyOf"] {
            var first: [String]?
            for alternative in alternatives {
                var found: [String] = []
                check(value, alternative, path: path, into: &found)
                if found.isEmpty { first = nil; break }
                if first == nil { first = found }
            }
            // The first alternative's problems say best what is wrong (write the usual case first).
            if let first { problems.append(contentsOf: first) }
        }
        switch value {
        case .string(let s): checkString(s, rules, path: path, into: &problems)
        case .integer, .number: checkNumber(value.numericValue!, rules, path: path, into: &problems)
        case .array(let items): checkArray(items, rules, path: path, into: &problems)
        case .object(let members): checkObject(members, rules, path: path, into: &problems)
        case .null, .bool: break
        }
    }

    private func checkString(_ s: String, _ rules: [String: JSONValue], path: String, into problems: inout [String]) {
        let length = s.unicodeScalars.count
        if case .integer(let min)? = rules["minLength"], length < min {
            problems.append("\(display(path)): shorter than \(min) characters")
        }
        if case .integer(let max)? = rules["maxLength"], length > max {
            problems.append("\(display(path)): longer than \(max) characters")
        }
        if case .string(let pattern)? = rules["pattern"] {
            if let regex = patterns.regex[pattern] {
                if (try? regex.firstMatch(in: s)) == nil {
                    problems.append("\(display(path)): \(render(.string(s))) does not match \(pattern)")
                }
            } else {
                problems.append("\(display(path)): schema pattern \(pattern) does not compile")
            }
        }
    }

    private func checkNumber(_ n: Double, _ rules: [String: JSONValue], path: String, into problems: inout [String]) {
        if let min = rules["minimum"]?.numericValue, n < min {
            problems.append("\(display(path)): \(formatNumber(n)) is below the minimum \(formatNumber(min))")
        }
        if let max = rules["maximum"]?.numericValue, n > max {
            problems.append("\(display(path)): \(formatNumber(n)) is above the maximum \(formatNumber(max))")
        }
    }

    private func checkArray(_ items: [JSONValue], _ rules: [String: JSONValue], path: String, into problems: inout [String]) {
        if case .integer(let min)? = rules["minItems"], items.count < min {
            problems.append("\(display(path)): fewer than \(min) items")
        }
        if case .integer(let max)? = rules["maxItems"], items.count > max {
            problems.append("\(display(path)): more than \(max) items")
        }
        var prefix: [JSONValue] = []
        if case .array(let p)? = rules["prefixItems"] { prefix = p }
        for (i, item) in items.enumerated() {
            if i < prefix.count {
                check(item, prefix[i], path: "\(path)[\(i)]", into: &problems)
            } else if let itemSchema = rules["items"] {
                check(item, itemSchema, path: "\(path)[\(i)]", into: &problems)
            }
        }
    }

    private func checkObject(_ members: [String: JSONValue], _ rules: [String: JSONValue], path: String, into problems: inout [String]) {
        if case .integer(let max)? = rules["maxProperties"], members.count > max {
            problems.append("\(display(path)): more than \(max) members")
        }
        if case .array(let required)? = rules["required"] {
            for case .string(let name) in required where members[name] == nil {
                problems.append("\(display(join(path, name))): required member missing")
            }
        }
        let properties: [String: JSONValue]
        if case .object(let p)? = rules["properties"] { properties = p } else { properties = [:] }
        for (name, member) in members.sorted(by: { $0.key < $1.key }) {
            if let names = rules["propertyNames"] {
                check(.string(name), names, path: join(path, name) + " (name)", into: &problems)
            }
            if let sub = properties[name] {
                check(member, sub, path: join(path, name), into: &problems)
            } else if let extra = rules["additionalProperties"] {
                if case .bool(false) = extra {
                    problems.append("\(display(join(path, name))): unknown member")
                } else {
                    check(member, extra, path: join(path, name), into: &problems)
                }
            }
        }
    }

    private func matches(_ value: JSONValue, type: JSONValue) -> Bool {
        switch type {
        case .string(let name):
            return name == value.schemaTypeName || (name == "number" && value.schemaTypeName == "integer")
        case .array(let names):
            return names.contains { matches(value, type: $0) }
        default:
            return true
        }
    }

    private func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.numericValue, let y = b.numericValue { return x == y }
        return a == b
    }

    private func typeList(_ type: JSONValue) -> String {
        switch type {
        case .string(let s): s
        case .array(let a): a.map(renderBare).joined(separator: " or ")
        default: "?"
        }
    }

    private func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
    private func display(_ path: String) -> String { path.isEmpty ? "(top level)" : path }
    private func formatNumber(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }
    private func renderBare(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        return render(v)
    }
    private func render(_ v: JSONValue) -> String {
        switch v {
        case .string(let s):
            let clipped = s.count > 60 ? String(s.prefix(60)) + "…" : s
            return "\"\(clipped)\""
        case .integer(let i): return String(i)
        case .number(let d): return String(d)
        case .bool(let b): return String(b)
        case .null: return "null"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// The `pattern` strings anywhere in a schema document that compile, compiled once.
///
/// `@unchecked Sendable`: `Regex<AnyRegexOutput>` is not Sendable only because of its output
/// type, which each match makes afresh; the compiled regexes here are never changed after
/// `init`, and a `Regex` may be matched from several threads at once.
private final class CompiledPatterns: @unchecked Sendable {
    let regex: [String: Regex<AnyRegexOutput>]

    init(in document: JSONValue) {
        var found: [String: Regex<AnyRegexOutput>] = [:]
        func walk(_ value: JSONValue) {
            switch value {
            case .object(let members):
                for (key, member) in members {
                    if key == "pattern", case .string(let text) = member, found[text] == nil, let compiled = try? Regex(text) {
                        found[text] = compiled
                    }
                    walk(member)
                }
            case .array(let items): items.forEach(walk)
            default: break
            }
        }
        walk(document)
        regex = found
    }
}
