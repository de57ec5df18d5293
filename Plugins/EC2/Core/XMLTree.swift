import DriverSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element: EC2's Query API answers are small documents read by path, so a
/// tree built from FoundationXML's event parser is all the driver needs.
///
///     let root = try XMLNode.parse(data)
///     for item in root.path("reservationSet", "item") { … item.text("instanceId") … }
public final class XMLNode: @unchecked Sendable {  // immutable once parsing ends
    public let name: String
    public fileprivate(set) var children: [XMLNode] = []
    public fileprivate(set) var value = ""

    init(name: String) { self.name = name }

    public func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    public func all(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// Every element at the end of `names`, following each step through all matches
    /// (`path("instancesSet", "item")`).
    public func path(_ names: String...) -> [XMLNode] {
        var level = [self]
        for name in names { level = level.flatMap { $0.all(name) } }
        return level
    }

    /// The trimmed text of the first element at the end of `names`, nil when absent.
    public func text(_ names: String...) -> String? {
        var node: XMLNode? = self
        for name in names { node = node?.child(name) }
        return node.map { $0.value.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Descendants named `name` at any depth, in document order.
    public func descendants(_ name: String) -> [XMLNode] {
        children.flatMap { ($0.name == name ? [$0] : []) + $0.descendants(name) }
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ data: Data) throws(ParseError) -> XMLNode {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        parser.shouldProcessNamespaces = true  // element names without the EC2 namespace prefix
        guard parser.parse(), let root = builder.root else {
            throw ParseError(description: "malformed XML: \(parser.parserError.map { "\($0)" } ?? "no root element")")
        }
        return root
    }
}

/// Builds the tree from parser events.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: XMLNode?
    var stack: [XMLNode] = []

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let node = XMLNode(name: name)
        if let parent = stack.last { parent.children.append(node) } else { root = node }
        stack.append(node)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        _ = stack.popLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        stack.last?.value += string
    }
}
