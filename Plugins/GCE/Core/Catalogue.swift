import DriverSupport
import Foundation

/// instance_types and quota_group: `machineTypes.list` of the first zone (vCPUs, memory,
/// GPUs from `accelerators`), prices from the config (Compute Engine publishes none), cached
/// for `catalogue_ttl` seconds.
extension GCEInstanceSet {
    public func instanceTypes(_ body: Data) throws(DriverError) -> Data {
        Payload.encode(CatalogueReply(instanceTypes: try catalogueEntries()))
    }

    public func catalogueEntries() throws(DriverError) -> [CatalogueEntry] {
        if let cached = catalogue.withLock({ $0 }), Date().timeIntervalSince(cached.at) < Double(config.common.catalogueTTL) {
            return cached.entries
        }
        let wanted = Set(config.common.instanceTypes)
        let entries = try paged("zones/\(config.zones[0])/machineTypes", query: [("maxResults", String(config.pageSize))]) { page throws(DriverError) in
            (page["items"].array ?? []).compactMap { Self.entry($0, config: config) }
        }.filter { wanted.isEmpty || wanted.contains($0.providerType) }.sorted { $0.providerType < $1.providerType }
        if let missing = config.common.instanceTypes.first(where: { name in !entries.contains { $0.providerType == name } }) {
            throw .invalid("config.instance_types: \(missing) is not offered in zone \(config.zones[0])")
        }
        catalogue.withLock { $0 = (entries, Date()) }
        return entries
    }

    static func entry(_ m: JSONValue, config: GCEConfig) -> CatalogueEntry? {
        guard let name = m["name"].string, let cpus = m["guestCpus"].int, let memoryMb = m["memoryMb"].int,
              m["deprecated"]["state"].string != "OBSOLETE" else { return nil }
        let gpus = (m["accelerators"].array ?? []).compactMap { $0["guestAcceleratorCount"].int }.reduce(0, +)
        return CatalogueEntry(providerType: name, vcpus: Int(cpus), ram: memoryMb * 1_048_576, scratch: 0,
                              gpu: .init(count: Int(gpus), stack: gpus > 0 ? "cuda" : nil),
                              price: config.common.prices[name], spotPrice: config.spotPrices[name])
    }

    public func quotaGroup(_ body: Data) throws(DriverError) -> Data {
        let request = try QuotaGroupRequest.decode(body)
        guard try catalogueEntries().contains(where: { $0.providerType == request.providerType }) else {
            throw .invalid("provider_type: \"\(request.providerType.prefix(32))\" is not a machine type of zone \(config.zones[0]) (or not in config.instance_types)")
        }
        return Payload.encode(QuotaGroupReply(group: Self.quotaGroup(request.providerType, preemptible: request.preemptible,
                                                                     overrides: config.common.quotaGroups)))
    }

    /// The machine family (`n2-standard-4` → `n2`; `custom-4-8192` → `n1`), or `preemptible`
    /// for spot (GCE counts every spot vCPU against PREEMPTIBLE_CPUS).
    public static func quotaGroup(_ providerType: String, preemptible: Bool, overrides: [String: String]) -> String {
        if let o = overrides[providerType] { return o }
        if preemptible { return "preemptible" }
        let family = String(providerType.prefix { $0 != "-" })
        return family == "custom" ? "n1" : family
    }
}
