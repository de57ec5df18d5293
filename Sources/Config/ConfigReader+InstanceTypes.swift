import JSON
import Scheduler
import Units

// instance_types: what the dispatcher may create, and at what price.
extension ConfigReader {
    mutating func readInstanceTypes(_ value: JSONValue?, into types: inout [InstanceType]) {
        guard case .array(let items)? = value else { return }
        var read: [InstanceType] = []
        var firstIndex: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            guard case .object = item else { continue }
            let at = "instance_types[\(i)]"
            if let name = string(item["name"]) {
                if let first = firstIndex[name] {
                    problem("\(at).name", "\(name) is used twice (also instance_types[\(first)])")
                } else {
                    firstIndex[name] = i
                }
            }
            if let type = readInstanceType(item, at: at) { read.append(type) }
        }
        types = read
    }

    /// One type; nil when a required member is missing or wrong (each problem is reported).
    private mutating func readInstanceType(_ item: JSONValue, at: String) -> InstanceType? {
        let ram = size(item["ram"], at: "\(at).ram", positive: true)
        let scratch = item["scratch"] == nil ? 0 : size(item["scratch"], at: "\(at).scratch")
        let added = item["added_scratch"] == nil ? 0 : size(item["added_scratch"], at: "\(at).added_scratch")
        if let scratch, let added, added > scratch {
            problem("\(at).added_scratch", "\(Units.describe(bytes: added)) is more than scratch (\(Units.describe(bytes: scratch)))")
        }
        // The schema does not require it, so the message can say why it matters.
        if item["price"] == nil { problem("\(at).price", "missing: give the price per hour (0 if free); the scheduler picks types by it") }
        var gpuVRAM: Int64? = 0
        if let vram = item["gpu"]?["vram"] { gpuVRAM = size(vram, at: "\(at).gpu.vram") }

        guard let name = string(item["name"]), let vcpus = int(item["vcpus"]), let ram, let scratch, let added,
            let price = number(item["price"]), let gpuVRAM
        else { return nil }
        let gpuCount = int(item["gpu"]?["count"]) ?? 0
        return InstanceType(
            name: name, providerType: string(item["provider_type"]), vcpus: vcpus, ram: ram, scratch: scratch, addedScratch: added,
            gpuCount: gpuCount, gpuStack: gpuCount > 0 ? string(item["gpu"]?["stack"]) ?? "" : "", gpuVRAM: gpuVRAM,
            price: price, preemptible: bool(item["preemptible"]) ?? false, quotaGroup: string(item["quota_group"]) ?? "default")
    }
}
