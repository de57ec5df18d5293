import Foundation

/// One page of `ContainerStore.summaries`.
public struct ContainerSummaryPage: Sendable, Hashable {
    public var items: [ContainerSummary]
    public var next: String?

    public init(items: [ContainerSummary], next: String?) {
        self.items = items
        self.next = next
    }
}

extension ContainerStore {
    /// A store that cannot project its records reads them whole.
    public func summaries(_ query: ContainerQuery) async throws(QueueError) -> ContainerSummaryPage {
        let page = try await list(query)
        return ContainerSummaryPage(items: page.items.map(ContainerSummary.init), next: page.next)
    }
}
