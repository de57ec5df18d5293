import Foundation

/// One broken rule of a submitted spec.
public struct FieldProblem: Codable, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var rule: String

    public init(field: String, rule: String) {
        self.field = field
        self.rule = rule
    }

    public var description: String { "\(field): \(rule)" }
}
