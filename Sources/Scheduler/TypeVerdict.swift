/// What the scheduler thinks of one instance type for one container, in words an operator
/// reads at 3 a.m. (`cloud-dispatch explain`).
public struct TypeVerdict: Sendable, Hashable {
    public var type: InstanceType
    public var eligible: Bool
    /// Why it is or is not eligible.
    public var reason: String
    /// Why it may not be created right now (back-off after cloud errors), if so.
    public var blocked: String?
}

extension Eligibility {
    /// Every configured type, cheapest first, judged for `demand`; consistent with `answer(for:)`.
    public func verdicts(for d: ContainerDemand, backoff: Backoff = Backoff(), now: Double = 0) -> [TypeVerdict] {
        let eligible: [InstanceType] = if case .eligible(let types) = answer(for: d) { types } else { [] }
        let cheapestFit = types.first { fits(d, $0) }
        return types.map { t in
            let blocked = backoff.blocked(t, now: now)
            if eligible.contains(t) {
                let note = t == cheapestFit ? "the cheapest that fits" : "fits, within \(maxPriceFactor)× the cheapest that fits"
                return TypeVerdict(type: t, eligible: true, reason: note, blocked: blocked)
            }
            return TypeVerdict(type: t, eligible: false, reason: refusal(d, t, cheapest: cheapestFit), blocked: blocked)
        }
    }

    private func refusal(_ d: ContainerDemand, _ t: InstanceType, cheapest: InstanceType?) -> String {
        if !d.allowedTypes.isEmpty && !d.allowedTypes.contains(t.name) { return "not in the container's instance_types" }
        if d.preemptible != t.preemptible {
            return t.preemptible ? "preemptible, and the container is not" : "on-demand, and the container asks for preemptible"
        }
        if d.needs.gpus > 0 && t.gpuStack != d.gpuStack { return "no \(d.gpuStack) GPUs" }
        let short = shortfalls(d, t)
        if !short.isEmpty { return "too small: " + short.joined(separator: ", ") }
        if let cheapest {
            return "fits, but costs \(t.price)/h, over \(maxPriceFactor)× the cheapest that fits (\(cheapest.name), \(cheapest.price)/h)"
        }
        return "does not fit"
    }
}
