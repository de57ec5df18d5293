import Foundation

/// The simulated cloud's settings (an instance set's config JSON). Every fault is drawn from a
/// generator seeded with `seed`, so a run is the same every time.
public struct SimConfig: Sendable, Equatable, Decodable {
    public struct InstanceType: Sendable, Equatable, Codable {
        public var providerType: String
        public var vcpus: Int
        public var ram: Int64
        public var scratch: Int64?
        public var price: Double?
        public var spotPrice: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case vcpus, ram, scratch, price
            case providerType = "provider_type"
            case spotPrice = "spot_price"
        }
    }

    public var seed: UInt64 = 1
    public var instanceTypes: [InstanceType] = [
        InstanceType(providerType: "sim.small", vcpus: 2, ram: 4 << 30, scratch: 50 << 30, price: 0.10, spotPrice: 0.03),
        InstanceType(providerType: "sim.large", vcpus: 16, ram: 64 << 30, scratch: 400 << 30, price: 0.80, spotPrice: 0.24),
    ]
    /// The account's instance quota: creating past it answers `quota`.
    public var maxInstances = 1000
    /// Probability that a create fails with an unclassified (transient) error.
    public var createFailureRate = 0.0
    /// Probability, per provider type, that a create finds no capacity.
    public var capacityErrorRate: [String: Double] = [:]
    /// Probability that a call is throttled, with this retry hint.
    public var rateLimitRate = 0.0
    public var retryAfterMs = 1000
    /// Probability, per listing, that each preemptible instance has been reclaimed (it is gone
    /// from that list on). The host lists on its clock, so this is a rate in virtual time.
    public var spotReclaimRate = 0.0
    /// Probability that a create or destroy acts and then loses its answer: the caller sees
    /// `transient` although the instances exist (or are gone).
    public var lostAnswerRate = 0.0
    /// Probability that a create or destroy hangs past the host's call timeout. The sim has no
    /// clock of its own and must not sleep (the soak runs on a virtual clock), so a hang is
    /// answered at once as what the host turns it into: `internal` "no reply within
    /// `hangSeconds` s". Half the hangs act first (the cloud did it, the answer never came).
    public var hangRate = 0.0
    public var hangSeconds = 60
    /// Probability that a destroy answers `not_found` for ids that still exist (eventual
    /// consistency: the cloud does not know them yet, or no longer says so); nothing is destroyed.
    public var destroyNotFoundRate = 0.0
    /// Probability, per listing, that the account's credentials stop working: from then on
    /// every call fails with `auth` until `authFailureLists` listings have been refused, then
    /// it heals. Outages start and end on listings only, so concurrent creates of one round
    /// all see the same state and a run replays the same.
    public var authFailureRate = 0.0
    public var authFailureLists = 2

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case seed
        case instanceTypes = "instance_types"
        case maxInstances = "max_instances"
        case createFailureRate = "create_failure_rate"
        case capacityErrorRate = "capacity_error_rate"
        case rateLimitRate = "rate_limit_rate"
        case retryAfterMs = "retry_after_ms"
        case spotReclaimRate = "spot_reclaim_rate"
        case lostAnswerRate = "lost_answer_rate"
        case hangRate = "hang_rate"
        case hangSeconds = "hang_seconds"
        case destroyNotFoundRate = "destroy_not_found_rate"
        case authFailureRate = "auth_failure_rate"
        case authFailureLists = "auth_failure_lists"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SimConfig()
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        instanceTypes = try c.decodeIfPresent([InstanceType].self, forKey: .instanceTypes) ?? d.instanceTypes
        maxInstances = try c.decodeIfPresent(Int.self, forKey: .maxInstances) ?? d.maxInstances
        createFailureRate = try c.decodeIfPresent(Double.self, forKey: .createFailureRate) ?? 0
        capacityErrorRate = try c.decodeIfPresent([String: Double].self, forKey: .capacityErrorRate) ?? [:]
        rateLimitRate = try c.decodeIfPresent(Double.self, forKey: .rateLimitRate) ?? 0
        retryAfterMs = try c.decodeIfPresent(Int.self, forKey: .retryAfterMs) ?? d.retryAfterMs
        spotReclaimRate = try c.decodeIfPresent(Double.self, forKey: .spotReclaimRate) ?? 0
        lostAnswerRate = try c.decodeIfPresent(Double.self, forKey: .lostAnswerRate) ?? 0
        hangRate = try c.decodeIfPresent(Double.self, forKey: .hangRate) ?? 0
        hangSeconds = try c.decodeIfPresent(Int.self, forKey: .hangSeconds) ?? d.hangSeconds
        destroyNotFoundRate = try c.decodeIfPresent(Double.self, forKey: .destroyNotFoundRate) ?? 0
        authFailureRate = try c.decodeIfPresent(Double.self, forKey: .authFailureRate) ?? 0
        authFailureLists = try c.decodeIfPresent(Int.self, forKey: .authFailureLists) ?? d.authFailureLists
    }

    /// Parses the config object, naming the first bad key.
    public static func parse(_ json: Data) throws(SimError) -> SimConfig {
        guard let keys = try? JSONDecoder().decode([String: AnyJSON].self, from: json) else {
            throw .invalid("config must be a JSON object")
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = keys.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalid("config: unknown key \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        // Inside a type too: a misspelt "spot_prise" would otherwise be dropped without a word.
        if let types = try? JSONDecoder().decode(OptionalTypes.self, from: json).instanceTypes {
            let knownType = Set(InstanceType.CodingKeys.allCases.map(\.rawValue))
            for (i, type) in types.enumerated() {
                if let unknown = type.keys.sorted().first(where: { !knownType.contains($0) }) {
                    throw .invalid("config.instance_types[\(i)]: unknown key \"\(unknown)\" (known: \(knownType.sorted().joined(separator: ", ")))")
                }
            }
        }
        let config: SimConfig
        do { config = try JSONDecoder().decode(SimConfig.self, from: json) } catch {
            throw .invalid("config: \(describe(error))")
        }
        if config.instanceTypes.isEmpty || config.instanceTypes.contains(where: { $0.providerType.isEmpty || $0.vcpus < 1 || $0.ram < 1 }) {
            throw .invalid("config.instance_types: each needs provider_type, vcpus ≥ 1 and ram ≥ 1")
        }
        let rates = [config.createFailureRate, config.rateLimitRate, config.spotReclaimRate, config.lostAnswerRate, config.hangRate,
                     config.destroyNotFoundRate, config.authFailureRate] + Array(config.capacityErrorRate.values)
        if rates.contains(where: { !(0...1).contains($0) }) { throw .invalid("config: failure rates are probabilities from 0 to 1") }
        if config.maxInstances < 0 || config.retryAfterMs < 0 || config.hangSeconds < 0 {
            throw .invalid("config: max_instances, retry_after_ms and hang_seconds must not be negative")
        }
        if config.authFailureLists < 1 { throw .invalid("config: auth_failure_lists must be at least 1") }
        return config
    }
}

/// The members of each configured type, when `instance_types` is a list of objects (only to list their keys).
private struct OptionalTypes: Decodable {
    var instanceTypes: [[String: AnyJSON]]?
    enum CodingKeys: String, CodingKey { case instanceTypes = "instance_types" }
}

/// Any JSON value (only to list an object's keys).
struct AnyJSON: Decodable {
    init(from decoder: any Decoder) throws {}
}

/// A decoding error as one line naming the field.
func describe(_ error: any Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func path(_ c: DecodingError.Context) -> String {
        c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch e {
    case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return "\(path(c)): \(c.debugDescription)"
    case .keyNotFound(let key, let c): return "\(path(c).isEmpty ? "" : path(c) + ".")\(key.stringValue): required"
    @unknown default: return "\(error)"
    }
}

/// An operation's failure, in the ABI's classes.
public enum SimError: Error, Equatable {
    case invalid(String)
    case notFound(String)
    case auth(String)
    case quota(String)
    case capacity(String)
    case rateLimit(String, retryAfterMs: Int)
    case transient(String)
    case unsupported(String)
    /// What the host reports for a call it gave up waiting for (a simulated hang).
    case `internal`(String)
}
