/// Creation back-off, keyed by cause, as the pool learned it from driver errors. A value: the
/// pool updates it; the scheduling pass only reads it.
///
///     var backoff = Backoff()
///     backoff.record(.capacityType, type: t, now: now)    // this type, for capacityTTL
///     backoff.blocked(t, now: now)                        // "no cloud capacity for m5.large until 12:03:10"
///
/// Capacity is the cloud's, so it is keyed by provider type, not by the operator's name for it
/// (two configured types on one provider type share a shortage), and spot and on-demand are kept
/// apart: clouds run them as separate pools, and a shortage in one says nothing of the other.
public struct Backoff: Sendable, Hashable {
    /// A scope of cloud capacity in one market: a provider type or a quota group.
    public struct CapacityKey: Sendable, Hashable {
        public var scope: String
        public var spot: Bool
    }

    /// Capacity shortages, by provider type and market.
    public var typeUntil: [CapacityKey: Double] = [:]
    /// Capacity shortages, by quota group and market.
    public var groupUntil: [CapacityKey: Double] = [:]
    /// No capacity anywhere in a market (the key says whether spot) until then.
    public var marketUntil: [Bool: Double] = [:]
    /// No creates at all until then (rate limit, unclassified errors).
    public var allUntil: Double?
    public var allReason = ""
    /// At cloud quota: no creates while the instance count is at least this.
    public var quotaAtCount: Int?
    /// Consecutive unclassified failures, for the exponential delay.
    public var failures = 0
    /// Instances that did not boot, by configured type.
    public var boot = BootFailures()
    /// Types the cloud refused to create as `invalid` (an image or a type it does not have), with
    /// its message: sent again as they are, they would fail again, so they wait for a reload.
    public var invalid: [String: String] = [:]
    /// The cloud refused the credentials (`auth`): no creates until a listing works again (the
    /// credentials were renewed) or the configuration is reloaded.
    public var authFailure: String?

    public var capacityTTL: Double = 60
    public var maxDelay: Double = 300

    public init() {}

    public enum Cause: Sendable, Hashable {
        case capacityType, capacityFamily, capacityGlobal
        case quota(instanceCount: Int)
        case rateLimit(retryAfter: Double?)
        case invalid(String)
        case auth(String)
        /// Any other failure, with the error as the cloud gave it: the status says why creating
        /// stopped (an `invalid` create fails the same way every time until the operator acts).
        case other(String)
    }

    /// Records a failed create of `type`.
    public mutating func record(_ cause: Cause, type: InstanceType, now: Double) {
        switch cause {
        case .capacityType: typeUntil[CapacityKey(scope: type.providerType, spot: type.preemptible)] = now + capacityTTL
        case .capacityFamily: groupUntil[CapacityKey(scope: type.quotaGroup, spot: type.preemptible)] = now + capacityTTL
        case .capacityGlobal: marketUntil[type.preemptible] = now + capacityTTL
        case .quota(let count):
            quotaAtCount = count
            if count == 0 {  // nothing to wait for: the account allows nothing right now
                failures += 1
                pauseAll(until: now + delay(), "at the cloud account's quota with no instances")
            }
        case .rateLimit(let retryAfter):
            // The hint is a floor: throttled again and again, the wait grows as any streak does.
            failures += 1
            pauseAll(until: now + max(retryAfter ?? 0, delay()), "rate-limited by the cloud")
        case .invalid(let error):
            invalid[type.name] = error
        case .auth(let error):
            authFailure = error
        case .other(let error):
            failures += 1
            pauseAll(until: now + delay(), "cloud call failed: \(error)")
        }
    }

    /// A create succeeded: the failure streak ends.
    public mutating func recordSuccess() { failures = 0 }

    /// A listing worked: the credentials are good again.
    public mutating func recordListSuccess() { authFailure = nil }

    /// A configuration reload: the image, the types, the credentials or the network may be fixed.
    public mutating func configurationChanged() {
        invalid = [:]
        authFailure = nil
        boot.reset()
    }

    /// What stops creates that an operator must fix, for /_health; nil when nothing does.
    public var createProblem: String? {
        var parts: [String] = []
        if let auth = authFailure { parts.append("stopped: the cloud refuses the credentials (\(auth))") }
        for name in invalid.keys.sorted() { parts.append("\(name) refused as invalid (\(invalid[name]!))") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// The instance count fell below the quota mark: creating may resume.
    public mutating func instanceCountChanged(_ count: Int) {
        if let mark = quotaAtCount, count < mark { quotaAtCount = nil }
    }

    /// Why `type` may not be created now, or nil.
    public func blocked(_ type: InstanceType, now: Double) -> String? {
        if let until = allUntil, until > now { return "\(allReason); backing off until \(clock(until))" }
        if let auth = authFailure {
            return "the cloud refuses the credentials (\(auth)); no creates until a listing works or the configuration is reloaded"
        }
        if let why = invalid[type.name] { return "the cloud refused to create \(type.name): \(why); not tried again until a reload" }
        if let why = boot.blocked(type.name, now: now) { return why }
        let market = type.preemptible ? "spot capacity" : "cloud capacity"
        if let until = marketUntil[type.preemptible], until > now { return "no \(market) anywhere until \(clock(until))" }
        if let until = typeUntil[CapacityKey(scope: type.providerType, spot: type.preemptible)], until > now {
            let name = type.name == type.providerType ? type.name : "\(type.name) (\(type.providerType))"
            return "no \(market) for \(name) until \(clock(until))"
        }
        if let until = groupUntil[CapacityKey(scope: type.quotaGroup, spot: type.preemptible)], until > now {
            return "no \(market) for the \(type.quotaGroup) family until \(clock(until))"
        }
        return nil
    }

    public func atQuota(instanceCount: Int) -> Bool { quotaAtCount.map { $0 > 0 && instanceCount >= $0 } ?? false }

    /// Bounded exponential delay with ±20% jitter, from the failure streak: 2, 4, 8 ... ≤ maxDelay s.
    /// The jitter is a hash of the streak, not a random draw, so a simulation replays exactly.
    func delay() -> Double {
        let base = min(maxDelay, 2 * pow2(min(failures, 16) - 1))
        var z = UInt64(failures) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        let unit = Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        return base * (0.8 + 0.4 * unit)
    }

    private mutating func pauseAll(until: Double, _ reason: String) {
        allUntil = max(allUntil ?? 0, until)
        allReason = reason
    }

    private func pow2(_ n: Int) -> Double { n <= 0 ? 1 : Double(1 << n) }
}

/// Seconds on the scheduler's clock as a short time of day (UTC), for status messages.
func clock(_ seconds: Double) -> String {
    let s = Int(seconds) % 86400
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(two(s / 3600)):\(two(s % 3600 / 60)):\(two(s % 60))"
}
