import DriverHost

/// An instance set that counts every call by operation and outcome (the error class, or
/// "none"), whatever driver serves it. The pool gets it in place of the driver's own set.
public struct MeteredInstanceSet: InstanceSet {
    public let base: any InstanceSet
    let metrics: DispatchMetrics

    public init(_ base: any InstanceSet, metrics: DispatchMetrics) {
        self.base = base
        self.metrics = metrics
    }

    public var id: String { base.id }
    public var driverID: String { base.driverID }

    public func create(_ request: CreateRequest) async throws(DriverError) -> [Instance] {
        try await counted("create") { () async throws(DriverError) in try await base.create(request) }
    }

    public func list(tags: [String: String]) async throws(DriverError) -> [Instance] {
        try await counted("list") { () async throws(DriverError) in try await base.list(tags: tags) }
    }

    public func destroy(ids: [String]) async throws(DriverError) -> DestroyResult {
        try await counted("destroy") { () async throws(DriverError) in try await base.destroy(ids: ids) }
    }

    public func setTags(ids: [String], tags: [String: String]) async throws(DriverError) {
        try await counted("set_tags") { () async throws(DriverError) in try await base.setTags(ids: ids, tags: tags) }
    }

    public func instanceTypes() async throws(DriverError) -> [CatalogInstanceType] {
        try await counted("instance_types") { () async throws(DriverError) in try await base.instanceTypes() }
    }

    public func quotaGroup(providerType: String, preemptible: Bool) async throws(DriverError) -> String {
        try await counted("quota_group") { () async throws(DriverError) in
            try await base.quotaGroup(providerType: providerType, preemptible: preemptible)
        }
    }

    public func close() async { await base.close() }

    private func counted<T>(_ operation: String, _ body: () async throws(DriverError) -> T) async throws(DriverError) -> T {
        do {
            let value = try await body()
            metrics.driverCall(driver: base.driverID, operation: operation, error: nil)
            return value
        } catch {
            metrics.driverCall(driver: base.driverID, operation: operation, error: error.errorClass)
            throw error
        }
    }
}
