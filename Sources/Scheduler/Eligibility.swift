import Units

/// Which instance types may run a container: those it fits, of the right market (preemptible or
/// not) and GPU stack, on its allow-list, and priced within `maxPriceFactor` of the cheapest
/// fit — cheapest first. When none fits, a reason naming the shortfall.
public struct Eligibility: Sendable {
    public let types: [InstanceType]
    public let maxPriceFactor: Double

    public init(types: [InstanceType], maxPriceFactor: Double = 1.5) {
        // Cheapest first; ties to more RAM, more vCPUs, then name (stable across runs).
        self.types = types.sorted { ($0.price, -$0.ram, -$0.vcpus, $0.name) < ($1.price, -$1.ram, -$1.vcpus, $1.name) }
        self.maxPriceFactor = max(1, maxPriceFactor)
    }

    public enum Answer: Sendable, Equatable {
        case eligible([InstanceType])
        case impossible(String)
    }

    public func answer(for demand: ContainerDemand) -> Answer {
        let fitting = types.filter { fits(demand, $0) }
        guard let cheapest = fitting.first else { return .impossible(reason(demand)) }
        let ceiling = cheapest.price * maxPriceFactor
        return .eligible(fitting.filter { $0.price <= ceiling + 1e-12 })
    }

    func fits(_ d: ContainerDemand, _ t: InstanceType) -> Bool {
        if !d.allowedTypes.isEmpty && !d.allowedTypes.contains(t.name) { return false }
        if d.preemptible != t.preemptible { return false }
        if d.needs.gpus > 0 && (t.gpuStack != d.gpuStack || t.gpuVRAM < d.gpuVRAM) { return false }
        return t.usable.covers(d.needs)
    }

    /// Why nothing fits, naming the closest type and what it lacks.
    func reason(_ d: ContainerDemand) -> String {
        var candidates = types
        if !d.allowedTypes.isEmpty {
            candidates = candidates.filter { d.allowedTypes.contains($0.name) }
            if candidates.isEmpty { return "none of its instance_types (\(d.allowedTypes.joined(separator: ", "))) is configured" }
        }
        let market = candidates.filter { $0.preemptible == d.preemptible }
        if market.isEmpty { return "no \(d.preemptible ? "preemptible" : "on-demand") instance type is configured" }
        if d.needs.gpus > 0 {
            let stack = market.filter { $0.gpuStack == d.gpuStack && $0.gpuCount > 0 }
            if stack.isEmpty { return "no instance type has \(d.gpuStack) GPUs" }
        }
        // The largest type by RAM, then vCPUs, and each shortfall it has.
        let largest = market.max { ($0.usable.ram, $0.vcpus) < ($1.usable.ram, $1.vcpus) }!
        var short = shortfalls(d, largest)
        if short.isEmpty { short.append("no single type has all of it") }
        return "no instance type fits: the largest, \(largest.name), falls short: " + short.joined(separator: ", ")
    }

    /// What `t` lacks for `d`, need first: "8 vCPUs > 4", "20GiB RAM > 3.8GiB usable".
    func shortfalls(_ d: ContainerDemand, _ t: InstanceType) -> [String] {
        let u = t.usable
        var short: [String] = []
        if d.needs.vcpus > u.vcpus { short.append("\(d.needs.vcpus) vCPUs > \(u.vcpus)") }
        if d.needs.ram > u.ram { short.append("\(Units.brief(bytes: d.needs.ram)) RAM > \(Units.brief(bytes: u.ram)) usable") }
        if d.needs.scratch > u.scratch { short.append("\(Units.brief(bytes: d.needs.scratch)) scratch > \(Units.brief(bytes: u.scratch))") }
        if d.needs.gpus > u.gpus { short.append("\(d.needs.gpus) GPUs > \(u.gpus)") }
        if d.needs.gpus > 0 && d.gpuVRAM > t.gpuVRAM { short.append("\(Units.brief(bytes: d.gpuVRAM)) VRAM > \(Units.brief(bytes: t.gpuVRAM))") }
        return short
    }
}
