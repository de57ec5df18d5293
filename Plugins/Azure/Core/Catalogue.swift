import DriverSupport
import Foundation

/// instance_types: the Resource SKUs API for the location (vCPUs, memory, GPUs, temporary
/// disk, the family), leaving out sizes restricted for this subscription in this location;
/// prices from the config (ARM does not publish them). Kept for `catalogue_ttl` seconds.
extension AzureInstanceSet {
    public func instanceTypes(_ body: Data) throws(DriverError) -> Data {
        _ = try Payload.decode([String: JSONValue].self, body)
        return Payload.encode(CatalogueReply(instanceTypes: try entries()))
    }

    func entries() throws(DriverError) -> [CatalogueEntry] {
        let now = clock()
        if let cached = catalogue.withLock({ $0 }), now - cached.at < config.common.catalogueTTL { return cached.entries }
        let skus = try arm.list("/subscriptions/\(config.subscriptionID)/providers/Microsoft.Compute/skus",
                                apiVersion: APIVersions.resourceSkus, query: [("$filter", "location eq '\(config.location)'")])
        let wanted = Set(config.common.instanceTypes.map { $0.lowercased() })
        var entries: [CatalogueEntry] = []
        var seen = Set<String>()
        for sku in skus {
            guard var entry = Self.entry(sku, location: config.location, zone: config.zone), wanted.isEmpty || wanted.contains(entry.providerType.lowercased()),
                  seen.insert(entry.providerType.lowercased()).inserted else { continue }
            entry.price = config.common.prices[entry.providerType]
            entry.spotPrice = config.spotPrices[entry.providerType]
            entries.append(entry)
        }
        entries.sort { $0.providerType < $1.providerType }
        let result = entries
        catalogue.withLock { $0 = (result, now) }
        return result
    }

    /// One ResourceSku; nil unless it is a VM size offered here to this subscription (and in
    /// `zone`, when VMs go to one).
    static func entry(_ sku: JSONValue, location: String, zone: String? = nil) -> CatalogueEntry? {
        guard sku["resourceType"].string == "virtualMachines", let name = sku["name"].string,
              sku["locations"].array?.contains(where: { $0.string?.lowercased() == location }) == true else { return nil }
        // A Location restriction (NotAvailableForSubscription) takes the size away here; a
        // Zone restriction takes the zones it names, which matters only to a set using one of them.
        for restriction in sku["restrictions"].array ?? [] {
            switch restriction["type"].string {
            case "Location": return nil
            case "Zone" where zone.map({ z in restriction["restrictionInfo"]["zones"].array?.contains { $0.string == z } == true }) == true: return nil
            default: continue
            }
        }
        var caps: [String: String] = [:]
        for c in sku["capabilities"].array ?? [] {
            if let n = c["name"].string, let v = c["value"].string { caps[n] = v }
        }
        guard let vcpus = caps["vCPUs"].flatMap({ Int($0) }), vcpus > 0,
              let gib = caps["MemoryGB"].flatMap({ Double($0) }), gib > 0 else { return nil }
        let scratchMB = caps["MaxResourceVolumeMB"].flatMap { Int64($0) } ?? 0
        return CatalogueEntry(providerType: name, vcpus: vcpus, ram: Int64(gib * 1_073_741_824), scratch: scratchMB * 1_048_576,
                              gpu: .init(count: caps["GPUs"].flatMap { Int($0) } ?? 0), price: nil, spotPrice: nil,
                              family: sku["family"].string ?? name)
    }
}
