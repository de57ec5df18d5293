import DriverSupport
import Foundation

/// instance_types: the region's types from DescribeInstanceTypes, current spot prices from
/// DescribeSpotPriceHistory, on-demand prices from the config (EC2's API does not publish
/// them). Kept for `catalogue_ttl` seconds: it changes rarely and the calls are large.
extension EC2InstanceSet {
    public func instanceTypes(_ body: Data) throws(DriverError) -> Data {
        _ = try Payload.decode([String: JSONValue].self, body)
        let now = clock()
        if let cached = catalogue.withLock({ $0 }), now - cached.at < config.common.catalogueTTL {
            return Payload.encode(CatalogueReply(instanceTypes: cached.entries))
        }
        var entries = try describeTypes()
        if config.spotPrices {
            let spot = try spotPrices(types: entries.map(\.providerType))
            for i in entries.indices { entries[i].spotPrice = spot[entries[i].providerType] }
        }
        for i in entries.indices { entries[i].price = config.common.prices[entries[i].providerType] }
        entries.sort { $0.providerType < $1.providerType }
        let result = entries
        catalogue.withLock { $0 = (result, now) }
        return Payload.encode(CatalogueReply(instanceTypes: result))
    }

    func describeTypes() throws(DriverError) -> [CatalogueEntry] {
        // Every type of the region, in pages.
        guard !config.common.instanceTypes.isEmpty else {
            return try paged(action: "DescribeInstanceTypes", filters: [], maxResults: 100,
                             extract: { $0.path("instanceTypeSet", "item") }).compactMap(Self.entry)
        }
        // Named types: EC2 takes at most 100 names in one call, and refuses MaxResults with them.
        var entries: [CatalogueEntry] = []
        for start in stride(from: 0, to: config.common.instanceTypes.count, by: Self.typeNamesPerCall) {
            let names = config.common.instanceTypes[start..<min(start + Self.typeNamesPerCall, config.common.instanceTypes.count)]
            let extra = names.enumerated().map { ("InstanceType.\($0.offset + 1)", $0.element) }
            entries += try paged(action: "DescribeInstanceTypes", filters: [], extra: extra, maxResults: nil,
                                 extract: { $0.path("instanceTypeSet", "item") }).compactMap(Self.entry)
        }
        return entries
    }

    /// DescribeInstanceTypes refuses more than 100 `InstanceType.N`.
    static let typeNamesPerCall = 100

    /// One `instanceTypeSet/item`; nil for a type without vCPU or memory figures.
    static func entry(_ item: XMLNode) -> CatalogueEntry? {
        guard let name = item.text("instanceType"),
              let vcpus = item.text("vCpuInfo", "defaultVCpus").flatMap({ Int($0) }), vcpus > 0,
              let mib = item.text("memoryInfo", "sizeInMiB").flatMap({ Int64($0) }), mib > 0 else { return nil }
        let disk = item.text("instanceStorageInfo", "totalSizeInGB").flatMap { Int64($0) } ?? 0
        let gpus = item.path("gpuInfo", "gpus", "item")
        let count = gpus.compactMap { $0.text("count").flatMap { Int($0) } }.reduce(0, +)
        var gpu = CatalogueEntry.GPU(count: count)
        if count > 0 {
            let maker = gpus.first?.text("manufacturer")?.lowercased() ?? ""
            gpu.stack = maker == "nvidia" ? "cuda" : maker == "amd" ? "rocm" : nil
            gpu.vram = item.text("gpuInfo", "totalGpuMemoryInMiB").flatMap { Int64($0) }.map { $0 << 20 }
        }
        return CatalogueEntry(providerType: name, vcpus: vcpus, ram: mib << 20, scratch: disk * 1_000_000_000,
                              gpu: gpu, price: nil, spotPrice: nil)
    }

    /// The current Linux spot price of each type: the highest over the region's zones, so a
    /// budget check errs on the safe side.
    func spotPrices(types: [String]) throws(DriverError) -> [String: Double] {
        // Linux prices only (the ones workers pay); other systems cost more and would skew the figure.
        var extra = [("StartTime", Self.isoTime(clock())), ("ProductDescription.1", Self.linuxProduct)]
        for (i, t) in config.common.instanceTypes.enumerated() { extra.append(("InstanceType.\(i + 1)", t)) }
        let rows = try paged(action: "DescribeSpotPriceHistory", filters: [], extra: extra, maxResults: 1000,
                             extract: { $0.path("spotPriceHistorySet", "item") })
        var prices: [String: Double] = [:]
        for row in rows where (row.text("productDescription") ?? "").hasPrefix(Self.linuxProduct) {
            guard let type = row.text("instanceType"), let price = row.text("spotPrice").flatMap({ Double($0) }) else { continue }
            prices[type] = max(prices[type] ?? 0, price)
        }
        return prices
    }

    static let linuxProduct = "Linux/UNIX"

    static func isoTime(_ time: Int) -> String {
        let d = SigV4Signer.amzDate(time)  // yyyyMMddTHHmmssZ
        let c = Array(d)
        return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))T\(String(c[9..<11])):\(String(c[11..<13])):\(String(c[13..<15]))Z"
    }
}
