import Foundation

/// A page of `list`; `next` is the cursor for the following page, nil on the last one.
public struct ContainerPage: Sendable, Hashable, Codable {
    public var items: [Container]
    public var next: String?

    public init(items: [Container], next: String?) {
        self.items = items
        self.next = next
    }
}
