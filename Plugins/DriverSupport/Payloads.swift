/// The driver ABI's JSON payloads as the Swift drivers read and write them (docs/driver-abi.md §7).
/// Request members a driver does not know are ignored, as the ABI asks.
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
    /// The host never sent this token before: there are no earlier instances to look for.
    public var firstSend: Bool?
    enum CodingKeys: String, CodingKey {
        case image, tags, count
        case instanceType = "instance_type", initScript = "init_script", sshPublicKey = "ssh_public_key"
        case idempotencyToken = "idempotency_token", firstSend = "first_send"
    }
}

public struct ListRequest: Decodable, Sendable { public var tags: [String: String] }
public struct DestroyRequest: Decodable, Sendable { public var ids: [String] }
public struct SetTagsRequest: Decodable, Sendable { public var ids: [String]; public var tags: [String: String] }
public struct QuotaGroupRequest: Decodable, Sendable {
    public var providerType: String
    public var preemptible: Bool
    enum CodingKeys: String, CodingKey { case preemptible, providerType = "provider_type" }
}

/// One instance in a reply.
public struct InstanceReply: Encodable, Sendable, Equatable {
    public var id: String
    public var providerType: String
    public var state: String
    public var address: String
    public var sshPort: Int
    public var sshUser: String
    public var tags: [String: String]
    public var preemptible: Bool
    public var createdAt: String?
    /// What the instance costs an hour, where the cloud says (left out when nil).
    public var price: Double?
    public var extra: [String: String]
    enum CodingKeys: String, CodingKey {
        case id, state, address, tags, preemptible, extra, price
        case providerType = "provider_type", sshPort = "ssh_port", sshUser = "ssh_user", createdAt = "created_at"
    }

    public init(id: String, providerType: String, state: String, address: String, sshPort: Int = 22, sshUser: String,
                tags: [String: String], preemptible: Bool, createdAt: String?, price: Double? = nil, extra: [String: String]) {
        self.id = id
        self.providerType = providerType
        self.state = state
        self.address = address
        self.sshPort = sshPort
        self.sshUser = sshUser
        self.tags = tags
        self.preemptible = preemptible
        self.createdAt = createdAt
        self.price = price
        self.extra = extra
    }
}

public struct InstancesReply: Encodable, Sendable {
    public var instances: [InstanceReply]
    public init(instances: [InstanceReply]) { self.instances = instances }
}

public struct DestroyReply: Encodable, Sendable {
    public struct Failure: Encodable, Sendable {
        public var id: String
        public var `class`: String
        public var message: String
        public init(id: String, class: String, message: String) {
            self.id = id
            self.class = `class`
            self.message = message
        }
    }
    public var destroyed: [String]
    public var failed: [Failure]
    public init(destroyed: [String], failed: [Failure]) {
        self.destroyed = destroyed
        self.failed = failed
    }
}

public struct Empty: Encodable, Sendable { public init() {} }

public struct QuotaGroupReply: Encodable, Sendable {
    public var group: String
    public init(group: String) { self.group = group }
}

/// `cdd.interruptions/1`'s poll reply: instances the cloud is about to take back, and when.
public struct NoticesReply: Encodable, Sendable {
    public struct Notice: Encodable, Sendable {
        public var id: String
        public var at: String
        public init(id: String, at: String) {
            self.id = id
            self.at = at
        }
    }
    public var notices: [Notice]
    public init(notices: [Notice]) { self.notices = notices }
}

public struct CatalogueEntry: Encodable, Sendable, Equatable {
    public struct GPU: Encodable, Sendable, Equatable {
        public var count: Int
        public var stack: String?
        public var vram: Int64?
        public init(count: Int, stack: String? = nil, vram: Int64? = nil) {
            self.count = count
            self.stack = stack
            self.vram = vram
        }
    }
    public var providerType: String
    public var vcpus: Int
    public var ram: Int64
    public var scratch: Int64
    public var gpu: GPU
    public var price: Double?
    public var spotPrice: Double?
    /// The family the cloud counts the type's quota in (Azure's `standardDSv3Family`), where
    /// the catalogue names one. Not in the reply.
    public var family: String?
    enum CodingKeys: String, CodingKey {
        case vcpus, ram, scratch, gpu, price
        case providerType = "provider_type", spotPrice = "spot_price"
    }

    public init(providerType: String, vcpus: Int, ram: Int64, scratch: Int64, gpu: GPU, price: Double?, spotPrice: Double?,
                family: String? = nil) {
        self.providerType = providerType
        self.vcpus = vcpus
        self.ram = ram
        self.scratch = scratch
        self.gpu = gpu
        self.price = price
        self.spotPrice = spotPrice
        self.family = family
    }
}

public struct CatalogueReply: Encodable, Sendable {
    public var instanceTypes: [CatalogueEntry]
    enum CodingKeys: String, CodingKey { case instanceTypes = "instance_types" }
    public init(instanceTypes: [CatalogueEntry]) { self.instanceTypes = instanceTypes }
}

/// What a driver says of itself (`capabilities`): the limits it keeps and the extensions it offers.
public struct CapabilitiesReply: Encodable, Sendable {
    public var simulated = false
    public var idempotentCreate = true
    public var maxCreateCount: Int
    public var maxDestroyBatch: Int
    public var preemptible = true
    public var hostKeys = false
    public var initScript = true
    public var extensions: [String]
    enum CodingKeys: String, CodingKey {
        case simulated, preemptible, extensions
        case idempotentCreate = "idempotent_create", maxCreateCount = "max_create_count"
        case maxDestroyBatch = "max_destroy_batch", hostKeys = "host_keys", initScript = "init_script"
    }

    public init(maxCreateCount: Int, maxDestroyBatch: Int, extensions: [String] = []) {
        self.maxCreateCount = maxCreateCount
        self.maxDestroyBatch = maxDestroyBatch
        self.extensions = extensions
    }
}
