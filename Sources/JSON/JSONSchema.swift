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

    /// The node number of each top-level definition in `rules`.
    private let definitions: [String: Int]
    private let rules: SchemaRules
    /// Every `pattern` of the document, compiled once: compiling a `Regex` costs ~25 µs, matching
    /// a short string against a compiled one ~0.6 µs, and every checked string met a compile.
    private let patterns: CompiledPatterns

    /// `definitions` is the JSON pointer of the object holding the named schemas.
    public init(document: JSONValue, definitions pointer: String = "#/$defs") throws {
        guard case .object(let defs)? = Self.resolve(pointer, in: document) else {
            throw UnsupportedKeyword(keyword: "(no definitions at \(pointer))", path: "#")
        }
        for (name, def) in defs { try Self.checkKeywords(def, path: "\(pointer)/\(name)") }
        patterns = CompiledPatterns(in: document)
        var rules = SchemaRules(document: document)
        definitions = defs.mapValues { rules.compile($0) }
        self.rules = rules
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
        var walk = Walk()
        check(value, schema, &walk)
        return walk.problems
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

    /// Where the check is, and what it found. The location is a stack of steps, written out
    /// only for a problem: a reply of 10,000 instances has some 200,000 nodes to walk.
    private struct Walk {
        enum Step {
            case member(String)
            case index(Int)
            case name(String)  // the name of a member, checked against `propertyNames`
        }
        var steps: [Step] = []
        var problems: [String] = []

        mutating func report(_ problem: String) { problems.append("\(location): \(problem)") }

        mutating func inside(_ step: Step, _ body: (inout Walk) -> Void) {
            steps.append(step)
            body(&self)
            steps.removeLast()
        }

        var location: String {
            var text = ""
            for step in steps {
                switch step {
                case .member(let name): text += text.isEmpty ? name : ".\(name)"
                case .index(let i): text += "[\(i)]"
                case .name: text += " (name)"
                }
            }
            return text.isEmpty ? "(top level)" : text
        }
    }

    private func check(_ value: JSONValue, _ schema: Int, _ walk: inout Walk) {
        let node = rules.nodes[schema]
        if node.never { walk.report("not allowed") }
        if let ref = node.ref { check(value, ref, &walk) }
        if let ref = node.unresolvedRef { walk.report("unresolvable $ref \(ref)") }
        if let type = node.type, !matches(value, type: type) {
            walk.report("expected \(typeList(type)), got \(value.schemaTypeName)")
            return
        }
        if let options = node.options, !options.contains(where: { equal($0, value) }) {
            walk.report("\(render(value)) is not one of \(options.map(renderBare).joined(separator: ", "))")
        }
        if let constant = node.constant, !equal(constant, value) {
            walk.report("must be \(render(constant))")
        }
        if let alternatives = node.anyOf {
            var first: [String]?
            for alternative in alternatives {
                var trial = Walk(steps: walk.steps)
                check(value, alternative, &trial)
                if trial.problems.isEmpty { first = nil; break }
                if first == nil { first = trial.problems }
            }
            // The first alternative's problems say best what is wrong (write the usual case first).
            if let first { walk.problems.append(contentsOf: first) }
        }
        switch value {
        case .string(let s): checkString(s, node, &walk)
        case .integer, .number: checkNumber(value.numericValue!, node, &walk)
        case .array(let items): checkArray(items, node, &walk)
        case .object(let members): checkObject(members, node, &walk)
        case .null, .bool: break
        }
    }

    private func checkString(_ s: String, _ node: SchemaRules.Node, _ walk: inout Walk) {
        // A scalar is 1 to 4 bytes of UTF-8: the byte count, which costs nothing, mostly settles it.
        if let min = node.minLength, s.utf8.count < 4 * min, s.unicodeScalars.count < min {
            walk.report("shorter than \(min) characters")
        }
        if let max = node.maxLength, s.utf8.count > max, s.unicodeScalars.count > max {
            walk.report("longer than \(max) characters")
        }
        if let pattern = node.pattern {
            if let regex = patterns.regex[pattern] {
                if (try? regex.firstMatch(in: s)) == nil {
                    walk.report("\(render(.string(s))) does not match \(pattern)")
                }
            } else {
                walk.report("schema pattern \(pattern) does not compile")
            }
        }
    }

    private func checkNumber(_ n: Double, _ node: SchemaRules.Node, _ walk: inout Walk) {
        if let min = node.minimum, n < min {
            walk.report("\(formatNumber(n)) is below the minimum \(formatNumber(min))")
        }
        if let max = node.maximum, n > max {
            walk.report("\(formatNumber(n)) is above the maximum \(formatNumber(max))")
        }
    }

    private func checkArray(_ items: [JSONValue], _ node: SchemaRules.Node, _ walk: inout Walk) {
        if let min = node.minItems, items.count < min {
            walk.report("fewer than \(min) items")
        }
        if let max = node.maxItems, items.count > max {
            walk.report("more than \(max) items")
        }
        for (i, item) in items.enumerated() {
            guard let schema = i < node.prefixItems.count ? node.prefixItems[i] : node.items else { continue }
            walk.inside(.index(i)) { check(item, schema, &$0) }
        }
    }

    private func checkObject(_ members: [String: JSONValue], _ node: SchemaRules.Node, _ walk: inout Walk) {
        if let max = node.maxProperties, members.count > max {
            walk.report("more than \(max) members")
        }
        for name in node.required where members[name] == nil {
            walk.inside(.member(name)) { $0.report("required member missing") }
        }
        // Members are walked in the dictionary's order; only when one has a problem are they
        // walked again in name order, so that the same document always reads the same.
        let before = walk.problems.count
        checkMembers(members, node, &walk)
        if walk.problems.count > before {
            walk.problems.removeSubrange(before...)
            checkMembers(members.sorted { $0.key < $1.key }, node, &walk)
        }
    }

    private func checkMembers(_ members: some Sequence<(key: String, value: JSONValue)>, _ node: SchemaRules.Node, _ walk: inout Walk) {
        for (name, member) in members {
            walk.inside(.member(name)) { walk in
                if let names = node.propertyNames { walk.inside(.name(name)) { check(.string(name), names, &$0) } }
                if let sub = node.properties[name] {
                    check(member, sub, &walk)
                } else {
                    switch node.others {
                    case .any: break
                    case .forbidden: walk.report("unknown member")
                    case .schema(let others): check(member, others, &walk)
                    }
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
