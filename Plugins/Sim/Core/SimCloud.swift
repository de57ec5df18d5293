import Foundation
import PluginABI
import Synchronization

/// A simulated cloud account: instances in memory, faults drawn from a seeded generator.
/// Each operation takes the request JSON and returns the reply JSON the driver ABI defines; the
/// entry target only converts between C and these calls.
///
///     let cloud = SimCloud(setID: "sim-1", config: try SimConfig.parse(configJSON))
///     let reply = try cloud.create(requestJSON)
public final class SimCloud: Sendable {
    public let setID: String
    public let config: SimConfig
    private let state: Mutex<State>

    struct State {
        var instances: [String: InstanceReply] = [:]
        var order: [String] = []
        var tokens: [String: [String]] = [:]
        var calls = 0
        var random: SplitMix64
        /// Creates draw from a stream of their own type and number instances per type, so
        /// concurrent creates of different types give the same run in any order.
        var createRandom: [String: SplitMix64] = [:]
        var created: [String: Int] = [:]
        var reclaimed = 0
        /// Listings still to be refused before an outage of the credentials heals (0: none).
        var authRefusalsLeft = 0
        var authOutageListings = 0
    }

    public init(setID: String, config: SimConfig) {
        self.setID = setID
        self.config = config
        state = Mutex(State(random: SplitMix64(seed: config.seed)))
    }

    public static func capabilities() -> Data { Payload.encode(CapabilitiesReply()) }

    public func create(_ json: Data) throws(SimError) -> Data {
        let request = try Payload.decode(CreateRequest.self, json)
        let type = request.instanceType.providerType
        try request.checkLimits()
        let maxCount = CapabilitiesReply().maxCreateCount
        guard (1...maxCount).contains(request.count) else { throw .invalid("count: a whole number from 1 to \(maxCount) (max_create_count)") }
        guard config.instanceTypes.contains(where: { $0.providerType == type }) else {
            throw .invalid("instance_type.provider_type: unknown type \(type)")
        }
        let config = config
        let made = try state.withLock { s throws(SimError) -> [InstanceReply] in
            let typeIndex = config.instanceTypes.firstIndex { $0.providerType == type }!
            var random = s.createRandom[type] ?? SplitMix64(seed: config.seed &+ 0x5EED &* UInt64(typeIndex + 1))
            defer { s.createRandom[type] = random }
            try Self.throttle(&s.calls, config, &random)
            try Self.checkCredentials(s)
            let hang = Hang(config, &random)
            if hang == .beforeActing { throw hang.error(config) }
            let made: [InstanceReply]
            if let token = request.idempotencyToken, let ids = s.tokens[token] {
                // A repeat: the first request's instances that still exist. None left: the token is spent.
                made = ids.compactMap { s.instances[$0] }
                if made.isEmpty {
                    throw .invalid("idempotency_token: \(token) was used by a create whose instances are all destroyed; a token is never used twice")
                }
            } else {
                made = try Self.make(request, typeIndex: typeIndex, &s, config, &random)
            }
            if hang == .afterActing { throw hang.error(config) }
            if random.chance(config.lostAnswerRate) { throw Self.lostAnswer }
            return made
        }
        return Payload.encode(InstancesReply(instances: made))
    }

    /// New instances for `request`, within the quota; records its token.
    private static func make(_ request: CreateRequest, typeIndex: Int, _ s: inout State, _ config: SimConfig,
                             _ random: inout SplitMix64) throws(SimError) -> [InstanceReply] {
        let type = request.instanceType.providerType
        // Like EC2 with MinCount 1: as many as the quota allows, or a quota error for none.
        let allowed = min(request.count, config.maxInstances - s.instances.count)
        if allowed < 1 {
            throw .quota("instance quota \(config.maxInstances) reached (\(s.instances.count) running)")
        }
        if let rate = config.capacityErrorRate[type], random.chance(rate) { throw .capacity("no capacity for \(type)") }
        if random.chance(config.createFailureRate) { throw .transient("simulated create failure") }
        var made: [InstanceReply] = []
        for _ in 0..<allowed {
            // sim-N, N unique across types: type i of k numbers i+1, i+1+k, i+1+2k ...
            let n = s.created[type, default: 0] * config.instanceTypes.count + typeIndex + 1
            s.created[type, default: 0] += 1
            let instance = InstanceReply(id: "sim-\(n)", providerType: type, tags: request.tags,
                                         preemptible: request.instanceType.preemptible ?? false,
                                         createdAt: Date().formatted(.iso8601))
            s.instances[instance.id] = instance
            s.order.append(instance.id)
            made.append(instance)
        }
        if let token = request.idempotencyToken { s.tokens[token] = made.map(\.id) }
        return made
    }

    /// What a caller sees when the cloud acted and the answer was lost on the way back.
    static let lostAnswer = SimError.transient("connection reset after the cloud acted (simulated lost answer)")

    public func list(_ json: Data) throws(SimError) -> Data {
        let filter = try Payload.decode(ListRequest.self, json).tags
        try RequestLimits.check(tags: filter)
        let config = config
        let found = try state.withLock { s throws(SimError) -> [InstanceReply] in
            try Self.throttle(&s, config)
            try Self.listCredentials(&s, config)
            Self.reclaimSpot(&s, config)
            return s.order.compactMap { s.instances[$0] }.filter { i in filter.allSatisfy { i.tags[$0.key] == $0.value } }
        }
        return Payload.encode(InstancesReply(instances: found))
    }

    /// The cloud takes preemptible instances back, each with `spotReclaimRate` per listing.
    private static func reclaimSpot(_ s: inout State, _ config: SimConfig) {
        guard config.spotReclaimRate > 0 else { return }
        let reclaimed = Set(s.order.filter { s.instances[$0]?.preemptible == true && s.random.chance(config.spotReclaimRate) })
        guard !reclaimed.isEmpty else { return }
        for id in reclaimed { s.instances[id] = nil }
        s.order.removeAll { reclaimed.contains($0) }
        s.reclaimed += reclaimed.count
    }

    /// How many instances the cloud has reclaimed so far.
    public var reclaimedCount: Int { state.withLock { $0.reclaimed } }

    public func destroy(_ json: Data) throws(SimError) -> Data {
        let ids = try Payload.decode(DestroyRequest.self, json).ids
        try RequestLimits.check(ids: ids, max: CDD_MAX_DESTROY_IDS)
        let config = config
        try state.withLock { s throws(SimError) in
            try Self.throttle(&s, config)
            try Self.checkCredentials(s)
            let hang = Hang(config, &s.random)
            if hang == .beforeActing { throw hang.error(config) }
            if s.random.chance(config.destroyNotFoundRate), let known = ids.first(where: { s.instances[$0] != nil }) {
                throw .notFound("no instance \(known) (simulated eventual consistency; it still exists)")
            }
            let gone = Set(ids)
            for id in ids { s.instances[id] = nil }
            s.order.removeAll { gone.contains($0) }
            if hang == .afterActing { throw hang.error(config) }
            if s.random.chance(config.lostAnswerRate) { throw Self.lostAnswer }
        }
        return Payload.encode(DestroyReply(destroyed: ids))
    }

    public func setTags(_ json: Data) throws(SimError) -> Data {
        let request = try Payload.decode(SetTagsRequest.self, json)
        try RequestLimits.check(ids: request.ids, max: CDD_MAX_SET_TAGS_IDS)
        try RequestLimits.check(tags: request.tags)
        let config = config
        try state.withLock { s throws(SimError) in
            try Self.throttle(&s, config)
            try Self.checkCredentials(s)
            if let missing = request.ids.first(where: { s.instances[$0] == nil }) { throw .notFound("no instance \(missing)") }
            for id in request.ids { s.instances[id]!.tags.merge(request.tags) { $1 } }
        }
        return Payload.encode(Empty())
    }

    public func instanceTypes(_ json: Data) throws(SimError) -> Data {
        _ = try Payload.decode([String: AnyJSON].self, json)
        return Payload.encode(CatalogReply(instanceTypes: config.instanceTypes))
    }

    public func quotaGroup(_ json: Data) throws(SimError) -> Data {
        let request = try Payload.decode(QuotaGroupRequest.self, json)
        try RequestLimits.check(request.providerType, "provider_type", 1...CDD_MAX_PROVIDER_TYPE)
        guard config.instanceTypes.contains(where: { $0.providerType == request.providerType }) else {
            throw .invalid("provider_type: unknown type \"\(request.providerType)\"")
        }
        let family = request.providerType.split(separator: ".").first.map(String.init) ?? request.providerType
        return Payload.encode(QuotaGroupReply(group: family + (request.preemptible ? "-spot" : "")))
    }

    /// While the credentials are out, every call fails with `auth`.
    private static func checkCredentials(_ s: State) throws(SimError) {
        if s.authRefusalsLeft > 0 { throw authFailure }
    }

    /// A listing may start an outage of the credentials (`authFailureRate`); each listing
    /// refused during one brings the healing closer.
    private static func listCredentials(_ s: inout State, _ config: SimConfig) throws(SimError) {
        if s.authRefusalsLeft == 0, s.random.chance(config.authFailureRate) { s.authRefusalsLeft = config.authFailureLists }
        guard s.authRefusalsLeft > 0 else { return }
        s.authRefusalsLeft -= 1
        s.authOutageListings += 1
        throw authFailure
    }

    static let authFailure = SimError.auth("simulated credentials failure (it heals after a few listings)")

    /// Listings refused for credentials so far.
    public var authRefusedListings: Int { state.withLock { $0.authOutageListings } }

    /// A call is throttled with probability `rateLimitRate`.
    private static func throttle(_ s: inout State, _ config: SimConfig) throws(SimError) {
        var random = s.random
        defer { s.random = random }
        try throttle(&s.calls, config, &random)
    }

    private static func throttle(_ calls: inout Int, _ config: SimConfig, _ random: inout SplitMix64) throws(SimError) {
        calls += 1
        if random.chance(config.rateLimitRate) {
            throw .rateLimit("simulated throttling", retryAfterMs: config.retryAfterMs)
        }
    }
}

/// Whether a call hangs past the host's call timeout, and if so whether the cloud acted first.
enum Hang: Equatable {
    case none, beforeActing, afterActing

    init(_ config: SimConfig, _ random: inout SplitMix64) {
        guard random.chance(config.hangRate) else { self = .none; return }
        self = random.chance(0.5) ? .afterActing : .beforeActing
    }

    /// The error the host reports when its call timeout passes (NativeDriver's wording).
    func error(_ config: SimConfig) -> SimError {
        .internal("no reply within \(config.hangSeconds) s (simulated hang, \(self == .afterActing ? "after" : "before") acting)")
    }
}

/// A small seeded generator: the same faults for the same seed. (A driver imports nothing of
/// the host, so it keeps its own copy.)
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1, using: &self) < p }
}
