import Foundation
import PluginABI
import Synchronization

/// One instance set of the template driver: instances in memory, gone when the process ends.
/// Each operation takes the parsed request and returns the reply object of the ABI
/// (docs/driver-abi.md §7), or throws a refusal naming the field.
final class MemoryCloud: Sendable {
    static let capabilities = #"{"extensions":[],"host_keys":false,"idempotent_create":true,"init_script":false,"# +
        #""max_create_count":10,"max_destroy_batch":100,"preemptible":false,"simulated":true}"#
    static let maxCreateCount = 10
    static let providerType = "memory.small"

    struct Instance: Sendable {
        var id: String
        var tags: [String: String]
        var createdAt: String
    }

    struct State {
        var instances: [String: Instance] = [:]
        var tokens: [String: [String]] = [:]
        var made = 0
    }

    let setID: String
    let maxInstances: Int
    private let state = Mutex(State())

    /// Config: `{"max_instances": N}` (default 100); any other key is refused, naming it.
    init(setID: String, config: [String: Any]) throws(DriverFailure) {
        if let unknown = config.keys.first(where: { $0 != "max_instances" }) {
            throw DriverFailure(CDD_E_INVALID, "config: unknown key \"\(unknown.prefix(64))\" (known: max_instances)")
        }
        let max = config["max_instances"] ?? 100
        guard let limit = max as? Int, limit >= 1 else { throw DriverFailure(CDD_E_INVALID, "config.max_instances: a whole number from 1") }
        self.setID = setID
        maxInstances = limit
    }

    func create(_ request: [String: Any]) throws(DriverFailure) -> Any {
        guard let type = request["instance_type"] as? [String: Any], let provider = type["provider_type"] as? String else {
            throw DriverFailure(CDD_E_INVALID, "instance_type.provider_type: required")
        }
        try Self.check(provider, "instance_type.provider_type", max: CDD_MAX_PROVIDER_TYPE)
        if let name = type["name"] { try Self.check(name, "instance_type.name", max: CDD_MAX_PROVIDER_TYPE) }
        let tags = try Self.tags(request["tags"])
        guard let count = request["count"] as? Int, (1...Self.maxCreateCount).contains(count) else {
            throw DriverFailure(CDD_E_INVALID, "count: a whole number from 1 to \(Self.maxCreateCount) (max_create_count)")
        }
        for (field, max) in [("image", CDD_MAX_IMAGE), ("init_script", CDD_MAX_INIT_SCRIPT), ("ssh_public_key", CDD_MAX_SSH_PUBLIC_KEY)] {
            if let value = request[field] { try Self.check(value, field, min: 0, max: max) }
        }
        let token = request["idempotency_token"]
        if let token { try Self.check(token, "idempotency_token", max: CDD_MAX_IDEMPOTENCY_TOKEN) }
        guard provider == Self.providerType else { throw DriverFailure(CDD_E_INVALID, "instance_type.provider_type: unknown type") }
        if type["preemptible"] as? Bool == true { throw DriverFailure(CDD_E_UNSUPPORTED, "preemptible: not offered") }

        let made = try state.withLock { s throws(DriverFailure) -> [Instance] in
            if let token = token as? String, let ids = s.tokens[token] {
                // A repeat: the first request's instances that still exist; none left: spent.
                let existing = ids.compactMap { s.instances[$0] }
                guard !existing.isEmpty else {
                    throw DriverFailure(CDD_E_INVALID, "idempotency_token: used by a create whose instances are all destroyed")
                }
                return existing
            }
            guard s.instances.count + count <= maxInstances else {
                throw DriverFailure(CDD_E_QUOTA, "max_instances \(maxInstances) reached")
            }
            let now = ISO8601DateFormatter().string(from: Date())
            var made: [Instance] = []
            for _ in 0..<count {
                s.made += 1
                let instance = Instance(id: "mem-\(s.made)", tags: tags, createdAt: now)
                s.instances[instance.id] = instance
                made.append(instance)
            }
            if let token = token as? String { s.tokens[token] = made.map(\.id) }
            return made
        }
        return ["instances": made.map(Self.reply)]
    }

    func list(_ request: [String: Any]) throws(DriverFailure) -> Any {
        let filter = try Self.tags(request["tags"])
        let found = state.withLock { s in
            s.instances.values.filter { i in filter.allSatisfy { i.tags[$0.key] == $0.value } }.sorted { $0.id < $1.id }
        }
        return ["instances": found.map(Self.reply)]
    }

    func destroy(_ request: [String: Any]) throws(DriverFailure) -> Any {
        let ids = try Self.ids(request["ids"], max: 100)
        // An id this set does not have (never made, gone, another set's) counts as destroyed.
        state.withLock { s in for id in ids { s.instances[id] = nil } }
        return ["destroyed": ids, "failed": [Any]()]
    }

    func setTags(_ request: [String: Any]) throws(DriverFailure) -> Any {
        let ids = try Self.ids(request["ids"], max: Int(CDD_MAX_SET_TAGS_IDS))
        let tags = try Self.tags(request["tags"])
        try state.withLock { s throws(DriverFailure) in
            if let missing = ids.first(where: { s.instances[$0] == nil }) {
                throw DriverFailure(CDD_E_NOT_FOUND, "no instance \(missing) in set \(setID)")
            }
            for id in ids { s.instances[id]!.tags.merge(tags) { $1 } }
        }
        return [String: Any]()
    }

    func instanceTypes(_ request: [String: Any]) throws(DriverFailure) -> Any {
        ["instance_types": [["provider_type": Self.providerType, "vcpus": 1, "ram": 1 << 30, "price": 0.0]]]
    }

    func quotaGroup(_ request: [String: Any]) throws(DriverFailure) -> Any {
        guard let provider = request["provider_type"] as? String, request["preemptible"] is Bool else {
            throw DriverFailure(CDD_E_INVALID, "provider_type (string) and preemptible (boolean) are required")
        }
        try Self.check(provider, "provider_type", max: CDD_MAX_PROVIDER_TYPE)
        guard provider == Self.providerType else { throw DriverFailure(CDD_E_INVALID, "provider_type: unknown type") }
        return ["group": "memory"]
    }

    // MARK: - Request checks: every limit of the ABI, the field named, the value never echoed

    static func check(_ value: Any, _ field: String, min: Int32 = 1, max: Int32) throws(DriverFailure) {
        guard let string = value as? String else { throw DriverFailure(CDD_E_INVALID, "\(field): must be a string") }
        let length = string.unicodeScalars.count
        guard (Int(min)...Int(max)).contains(length) else {
            throw DriverFailure(CDD_E_INVALID, "\(field): \(length) characters, must be \(min) to \(max)")
        }
    }

    static func tags(_ value: Any?) throws(DriverFailure) -> [String: String] {
        guard let object = value as? [String: Any] else { throw DriverFailure(CDD_E_INVALID, "tags: required object of strings") }
        var tags: [String: String] = [:]
        for (key, value) in object {
            try check(key, "tags key", max: CDD_MAX_TAG_KEY)
            try check(value, "tags value", min: 0, max: CDD_MAX_TAG_VALUE)
            tags[key] = value as? String
        }
        return tags
    }

    static func ids(_ value: Any?, max: Int) throws(DriverFailure) -> [String] {
        guard let ids = value as? [Any], (1...max).contains(ids.count) else {
            throw DriverFailure(CDD_E_INVALID, "ids: required array of 1 to \(max) instance ids")
        }
        for id in ids { try check(id, "ids", max: CDD_MAX_INSTANCE_ID) }
        return ids.compactMap { $0 as? String }
    }

    static func reply(_ i: Instance) -> [String: Any] {
        ["id": i.id, "provider_type": providerType, "state": "running", "address": "", "tags": i.tags, "created_at": i.createdAt]
    }
}
