import CYaml

/// The limits a configuration document must stay within before Yams builds values from it.
///
/// YAML aliases let a few hundred bytes stand for billions of nodes ("billion laughs"): Yams
/// expands every alias when it builds values (47 s and 1.2 GB at 6 levels), and it has no limit
/// of its own. So libyaml's event stream is walked first — linear in the text — counting each
/// node, and each scalar's bytes, as often as aliases repeat it; the document is refused as soon
/// as a limit is passed.
///
///     if let problem = YAMLBudget.problem(in: text) { return (nil, [problem]) }
///     let value = try Yams.load(yaml: text)
enum YAMLBudget {
    /// Bytes of text; a configuration is a few kilobytes.
    static let maxBytes = 1 << 20
    /// Nodes once every alias is expanded (examples/local.yml has about 150).
    static let maxNodes = 100_000
    /// Scalar bytes once every alias is expanded: a long string repeated by aliases costs its
    /// length each time it is hashed or checked.
    static let maxExpandedBytes = 8 << 20
    /// Nested sequences and mappings: Yams builds values recursively.
    static let maxDepth = 64

    /// Why `text` is refused, or nil. A syntax error is not reported here: Yams reports it, with
    /// its line, when it parses the same text.
    static func problem(in text: String) -> String? {
        let bytes = Array(text.utf8)
        if bytes.count > maxBytes { return "the file has \(bytes.count) bytes; a configuration has at most \(maxBytes)" }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return "out of memory reading YAML" }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var walk = Walk()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return nil }
                if let problem = walk.take(event) { return problem }
            }
        }
    }

    /// What a node stands for once its aliases are expanded.
    private struct Size {
        var nodes: Int
        var bytes: Int
    }

    /// The expanded size of every open collection, and of every anchored node seen so far.
    private struct Walk {
        /// Open sequences and mappings, innermost last: size so far (itself included), its anchor.
        var open: [(size: Size, anchor: String?)] = []
        var anchored: [String: Size] = [:]
        var total = Size(nodes: 0, bytes: 0)

        mutating func take(_ event: yaml_event_t) -> String? {
            switch event.type {
            case YAML_SCALAR_EVENT:
                return add(Size(nodes: 1, bytes: event.data.scalar.length), anchor: name(event.data.scalar.anchor))
            case YAML_ALIAS_EVENT:
                // An undefined alias counts 1 here; Yams refuses it.
                return add(name(event.data.alias.anchor).flatMap { anchored[$0] } ?? Size(nodes: 1, bytes: 0), anchor: nil)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                if open.count >= YAMLBudget.maxDepth { return "nested more than \(YAMLBudget.maxDepth) levels deep" }
                let anchor = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                open.append((Size(nodes: 1, bytes: 0), name(anchor)))
                return nil
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let closed = open.popLast() else { return nil }
                return add(closed.size, anchor: closed.anchor)
            default:
                return nil
            }
        }

        /// A complete node of `size` (expanded), added to the collection that holds it.
        private mutating func add(_ size: Size, anchor: String?) -> String? {
            if let anchor { anchored[anchor] = size }
            // Every size stays within the limits, so the sums cannot overflow.
            var holder = open.last?.size ?? total
            holder.nodes += size.nodes
            holder.bytes += size.bytes
            if open.isEmpty { total = holder } else { open[open.count - 1].size = holder }
            if holder.nodes > YAMLBudget.maxNodes {
                return "more than \(YAMLBudget.maxNodes) values once aliases (*name) are expanded; "
                    + "aliases may repeat a value, not multiply a document"
            }
            if holder.bytes > YAMLBudget.maxExpandedBytes {
                return "more than \(YAMLBudget.maxExpandedBytes) bytes of text once aliases (*name) are expanded; "
                    + "aliases may repeat a value, not multiply a document"
            }
            return nil
        }

        private func name(_ anchor: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            anchor.map { String(cString: $0) }
        }
    }
}
