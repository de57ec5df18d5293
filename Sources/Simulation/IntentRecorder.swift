import DriverHost
import Synchronization

/// An instance set that passes every call through and remembers what each create asked for:
/// the count per idempotency token, so a check can hold the cloud's instances of a token to it.
///
///     let recorder = IntentRecorder(set)   // give the pool `recorder` instead of `set`
///     recorder.asked["t-1"]                // 2: the count the token's requests asked for
public final class IntentRecorder: InstanceSet {
    struct Record {
        var asked: [String: Int] = [:]
        var createCalls = 0
        var problems: [String] = []
    }

    let inner: any InstanceSet
    private let record = Mutex(Record())

    public init(_ inner: any InstanceSet) { self.inner = inner }

    /// The count asked per token (the first request's; a resend must ask the same).
    public var asked: [String: Int] { record.withLock { $0.asked } }
    /// Create calls made, resends included.
    public var createCalls: Int { record.withLock { $0.createCalls } }
    /// Creates without a token, or a token resent with another count.
    public var problems: [String] { record.withLock { $0.problems } }

    public var id: String { inner.id }
    public var driverID: String { inner.driverID }

    public func create(_ request: CreateRequest) async throws(DriverError) -> [Instance] {
        record.withLock { r in
            r.createCalls += 1
            guard let token = request.idempotencyToken else {
                r.problems.append("a create of \(request.count) \(request.instanceType.providerType) was sent without an idempotency token")
                return
            }
            if let first = r.asked[token], first != request.count {
                r.problems.append("intent \(token) was sent with count \(first), then \(request.count)")
            }
            r.asked[token] = r.asked[token] ?? request.count
        }
        return try await inner.create(request)
    }

    public func list(tags: [String: String]) async throws(DriverError) -> [Instance] { try await inner.list(tags: tags) }
    public func destroy(ids: [String]) async throws(DriverError) -> DestroyResult { try await inner.destroy(ids: ids) }
    public func setTags(ids: [String], tags: [String: String]) async throws(DriverError) { try await inner.setTags(ids: ids, tags: tags) }
    public func instanceTypes() async throws(DriverError) -> [CatalogInstanceType] { try await inner.instanceTypes() }
    public func quotaGroup(providerType: String, preemptible: Bool) async throws(DriverError) -> String {
        try await inner.quotaGroup(providerType: providerType, preemptible: preemptible)
    }
    public func close() async { await inner.close() }
}
