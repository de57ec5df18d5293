/// Every schema of a document with its keywords read out once, each a node numbered in `nodes`.
/// Validating looked each keyword up among the schema's members, a dozen hashed lookups at each
/// of the ~200,000 nodes of a 10,000-instance reply; now it reads fields.
///
/// A `$ref` is a node number: its target is compiled once, when first met, and a reference to
/// a schema still being compiled (a recursive schema) gets the number it will have.
struct SchemaRules: Sendable {
    struct Node: Sendable {
        /// What an object's members not in `properties` may be.
        enum Others: Sendable {
            case any
            case forbidden
            case schema(Int)
        }

        /// The schema `false`: no value is allowed.
        var never = false
        var ref: Int?
        /// A `$ref` that names nothing in the document.
        var unresolvedRef: String?
        var type: JSONValue?
        var options: [JSONValue]?
        var constant: JSONValue?
        var anyOf: [Int]?
        var minLength: Int64?
        var maxLength: Int64?
        var pattern: String?
        var minimum: Double?
        var maximum: Double?
        var minItems: Int64?
        var maxItems: Int64?
        var prefixItems: [Int] = []
        var items: Int?
        var maxProperties: Int64?
        var required: [String] = []
        var properties: [String: Int] = [:]
        var propertyNames: Int?
        var others: Others = .any
    }

    private(set) var nodes: [Node] = []
    private var refs: [String: Int] = [:]
    private let document: JSONValue

    init(document: JSONValue) { self.document = document }

    /// The number of `schema`'s node, compiled with everything it refers to.
    mutating func compile(_ schema: JSONValue) -> Int {
        let index = nodes.count
        nodes.append(Node())
        guard case .object(let rules) = schema else {
            if case .bool(false) = schema { nodes[index].never = true }
            return index
        }
        var node = Node()
        if case .string(let ref)? = rules["$ref"] {
            if let known = refs[ref] {
                node.ref = known
            } else if let target = JSONSchema.resolve(ref, in: document) {
                refs[ref] = nodes.count  // the number `compile(target)` gives it, known before it recurses
                node.ref = compile(target)
            } else {
                node.unresolvedRef = ref
            }
        }
        node.type = rules["type"]
        if case .array(let options)? = rules["enum"] { node.options = options }
        node.constant = rules["const"]
        if case .array(let alternatives)? = rules["anyOf"] { node.anyOf = alternatives.map { compile($0) } }
        if case .integer(let n)? = rules["minLength"] { node.minLength = n }
        if case .integer(let n)? = rules["maxLength"] { node.maxLength = n }
        if case .string(let p)? = rules["pattern"] { node.pattern = p }
        node.minimum = rules["minimum"]?.numericValue
        node.maximum = rules["maximum"]?.numericValue
        if case .integer(let n)? = rules["minItems"] { node.minItems = n }
        if case .integer(let n)? = rules["maxItems"] { node.maxItems = n }
        if case .array(let prefix)? = rules["prefixItems"] { node.prefixItems = prefix.map { compile($0) } }
        if let items = rules["items"] { node.items = compile(items) }
        if case .integer(let n)? = rules["maxProperties"] { node.maxProperties = n }
        if case .array(let required)? = rules["required"] { node.required = required.compactMap { if case .string(let s) = $0 { s } else { nil } } }
        if case .object(let properties)? = rules["properties"] { node.properties = properties.mapValues { compile($0) } }
        if let names = rules["propertyNames"] { node.propertyNames = compile(names) }
        switch rules["additionalProperties"] {
        case nil: node.others = .any
        case .bool(false)?: node.others = .forbidden
        case let others?: node.others = .schema(compile(others))
        }
        nodes[index] = node
        return index
    }
}
