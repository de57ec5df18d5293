/// Who may do what.
public enum Role: String, Sendable, Codable, Comparable {
    /// Submit, read, reprioritise and cancel containers.
    case submitter
    /// Everything, including the dispatcher-side transitions and (later) instance management.
    case admin

    public static func < (a: Role, b: Role) -> Bool { a == .submitter && b == .admin }
}

/// The configured bearer tokens. A presented token is compared with every configured one in
/// constant time (no early exit on the first differing byte, and no short cut on a match), so
/// response timing says nothing about how much of a token was right.
public struct TokenTable: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var role: Role
        let secret: [UInt8]

        public init(name: String, role: Role, secret: String) {
            self.name = name
            self.role = role
            self.secret = Array(secret.utf8)
        }
    }

    let entries: [Entry]

    public init(_ entries: [Entry]) { self.entries = entries }

    /// The entry whose token equals `presented`, if any.
    public func authenticate(_ presented: String) -> Entry? {
        let candidate = Array(presented.utf8)
        var match: Entry?
        for entry in entries where Self.constantTimeEqual(candidate, entry.secret) {
            match = entry
        }
        return match
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt64(a.count ^ b.count)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0
    }
}
