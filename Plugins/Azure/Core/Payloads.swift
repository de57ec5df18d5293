import Foundation

/// The driver ABI's JSON payloads as this driver reads and writes them (docs/driver-abi.md §7).
/// Request members this driver does not know are ignored, as the ABI asks.
public struct CreateRequest: Decodable, Sendable {
    public struct InstanceType: Decodable, Sendable {
        public var name: String
        public var providerType: String
        public var vcpus: Int
        public var ram: Int64
        public var addedScratch: Int64?
        public var preemptible: Bool
        public var price: Double
        enum CodingKeys: String, CodingKey {
            case name, vcpus, ram, preemptible, price
            case providerType = "provider_type", addedScratch = "added_scratch"
        }
    }
    public var instanceType: InstanceType
    public var image: String?
    public var tags: [String: String]
    public var initScript: String?
    public var sshPublicKey: String?
    public var count: Int
    public var idempotencyToken: String?
    enum CodingKeys: String, CodingKey {
        case image, tags, count
        case instanceType = "instance_type", initScript = "init_script", sshPublicKey = "ssh_public_key"
        case idempotencyToken = "idempotency_token"
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

/// One instance in a reply.
public struct InstanceReply: Encodable, Sendable, Equatable {
    public var id: String
    public var providerType: String
    public var state: String
    public var address: String
    public var sshPort = 22
    public var sshUser: String
    public var tags: [String: String]
    public var preemptible: Bool
    public var createdAt: String?
    public var extra: [String: String]
    enum CodingKeys: String, CodingKey {
        case id, state, address, tags, preemptible, extra
        case providerType = "provider_type", sshPort = "ssh_port", sshUser = "ssh_user", createdAt = "created_at"
    }
}

struct InstancesReply: Encodable { var instances: [InstanceReply] }

struct DestroyReply: Encodable {
    struct Failure: Encodable { var id: String; var `class`: String; var message: String }
    var destroyed: [String]
    var failed: [Failure]
}

struct Empty: Encodable {}
struct QuotaGroupReply: Encodable { var group: String }

struct Notice: Encodable { var id: String; var at: String }
struct NoticesReply: Encodable { var notices: [Notice] }

public struct CatalogueEntry: Encodable, Sendable, Equatable {
    public struct GPU: Encodable, Sendable, Equatable { public var count: Int }
    public var providerType: String
    public var vcpus: Int
    public var ram: Int64
    public var scratch: Int64
    public var gpu: GPU
    public var price: Double?
    public var spotPrice: Double?
    /// The SKU's family (`standardDSv3Family`): its quota group. Not in the reply.
    public var family: String
    enum CodingKeys: String, CodingKey {
        case vcpus, ram, scratch, gpu, price
        case providerType = "provider_type", spotPrice = "spot_price"
    }
}

struct CatalogueReply: Encodable {
    var instanceTypes: [CatalogueEntry]
    enum CodingKeys: String, CodingKey { case instanceTypes = "instance_types" }
}

struct CapabilitiesReply: Encodable {
    var simulated = false
    var idempotentCreate = true
    var maxCreateCount = AzureInstanceSet.maxCreateCount
    var maxDestroyBatch = AzureInstanceSet.maxDestroyBatch
    var preemptible = true
    var hostKeys = false
    var initScript = true
    var extensions = ["cdd.interruptions/1"]
    enum CodingKeys: String, CodingKey {
        case simulated, preemptible, extensions
        case idempotentCreate = "idempotent_create", maxCreateCount = "max_create_count"
        case maxDestroyBatch = "max_destroy_batch", hostKeys = "host_keys", initScript = "init_script"
    }
}

enum Payload {
    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws(AzureError) -> T {
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw .invalid("request: \(describe(error))")
        }
    }

    static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// A decoding error in one line, naming the member.
    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let ctx)?: "missing \(path(ctx.codingPath + [key]))"
        case .typeMismatch(_, let ctx)?, .valueNotFound(_, let ctx)?: "wrong type at \(path(ctx.codingPath))"
        case .dataCorrupted(let ctx)?: ctx.codingPath.isEmpty ? "not a JSON object" : "bad value at \(path(ctx.codingPath))"
        default: "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "(top)" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
