import Foundation
import PluginABI

/// The driver ABI's payloads, as the sim driver reads and writes them (docs/driver-abi.md).
struct CreateRequest: Decodable {
    struct InstanceType: Decodable {
        var name: String?
        var providerType: String
        var preemptible: Bool?
        enum CodingKeys: String, CodingKey { case name, preemptible, providerType = "provider_type" }
    }
    var instanceType: InstanceType
    var tags: [String: String]
    var count: Int
    var idempotencyToken: String?
    var image: String?
    var initScript: String?
    var sshPublicKey: String?
    enum CodingKeys: String, CodingKey {
        case tags, count, image
        case instanceType = "instance_type"
        case idempotencyToken = "idempotency_token"
        case initScript = "init_script"
        case sshPublicKey = "ssh_public_key"
    }
}

extension CreateRequest {
    /// Every string member within the ABI's limits (the sim reads only some of them, but
    /// refuses what no driver may take).
    func checkLimits() throws(SimError) {
        try RequestLimits.check(instanceType.providerType, "instance_type.provider_type", 1...CDD_MAX_PROVIDER_TYPE)
        try RequestLimits.check(instanceType.name, "instance_type.name", 1...CDD_MAX_PROVIDER_TYPE)
        try RequestLimits.check(image, "image", 0...CDD_MAX_IMAGE)
        try RequestLimits.check(initScript, "init_script", 0...CDD_MAX_INIT_SCRIPT)
        try RequestLimits.check(sshPublicKey, "ssh_public_key", 0...CDD_MAX_SSH_PUBLIC_KEY)
        try RequestLimits.check(idempotencyToken, "idempotency_token", 1...CDD_MAX_IDEMPOTENCY_TOKEN)
        try RequestLimits.check(tags: tags)
    }
}

struct ListRequest: Decodable { var tags: [String: String] }
struct DestroyRequest: Decodable { var ids: [String] }
struct SetTagsRequest: Decodable { var ids: [String]; var tags: [String: String] }
struct QuotaGroupRequest: Decodable {
    var providerType: String
    var preemptible: Bool
    enum CodingKeys: String, CodingKey { case preemptible, providerType = "provider_type" }
}

struct InstanceReply: Encodable {
    var id: String
    var providerType: String
    var state = "running"
    var address = ""
    var tags: [String: String]
    var preemptible: Bool
    var createdAt: String
    enum CodingKeys: String, CodingKey {
        case id, state, address, tags, preemptible
        case providerType = "provider_type"
        case createdAt = "created_at"
    }
}

struct InstancesReply: Encodable { var instances: [InstanceReply] }
struct DestroyReply: Encodable { var destroyed: [String]; var failed: [String] = [] }
struct Empty: Encodable {}
struct CatalogReply: Encodable {
    var instanceTypes: [SimConfig.InstanceType]
    enum CodingKeys: String, CodingKey { case instanceTypes = "instance_types" }
}
struct QuotaGroupReply: Encodable { var group: String }
struct CapabilitiesReply: Encodable {
    var simulated = true
    var idempotentCreate = true
    var maxCreateCount = 1000
    var maxDestroyBatch = 1000
    var preemptible = true
    var hostKeys = false
    var initScript = false
    var extensions: [String] = []
    enum CodingKeys: String, CodingKey {
        case simulated, preemptible, extensions
        case idempotentCreate = "idempotent_create"
        case maxCreateCount = "max_create_count"
        case maxDestroyBatch = "max_destroy_batch"
        case hostKeys = "host_keys"
        case initScript = "init_script"
    }
}

enum Payload {
    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws(SimError) -> T {
        do { return try JSONDecoder().decode(T.self, from: data) } catch { throw .invalid("request: \(describe(error))") }
    }

    static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
