import JSON

/// Typed forms of the driver payloads, spelled in JSON as in `Schemas/driver-abi.schema.json`.
/// Keys are mapped one by one: a blanket snake_case strategy would also rewrite tag keys.

/// GPUs of an instance type.
public struct GPUSpec: Codable, Sendable, Hashable {
    public var count: Int
    public var stack: String?
    /// Bytes of memory per device.
    public var vram: Int64?

    public init(count: Int, stack: String? = nil, vram: Int64? = nil) {
        self.count = count
        self.stack = stack
        self.vram = vram
    }
}

/// The configured instance type a create request is for.
public struct InstanceTypeSpec: Codable, Sendable, Hashable {

    enum CodingKeys: String, CodingKey {
        case name
        case providerType = "provider_type"
        case vcpus
        case ram
        case scratch
        case addedScratch = "added_scratch"
        case gpu
        case preemptible
        case price
    }
    public var name: String
    public var providerType: String
    public var vcpus: Int
    /// Bytes.
    public var ram: Int64
    /// Bytes of local scratch the type comes with.
    public var scratch: Int64?
    /// Bytes of extra disk the driver must attach.
    public var addedScratch: Int64?
    public var gpu: GPUSpec?
    public var preemptible: Bool
    /// Hourly price the operator configured.
    public var price: Double

    public init(
        name: String, providerType: String, vcpus: Int, ram: Int64, scratch: Int64? = nil,
        addedScratch: Int64? = nil, gpu: GPUSpec? = nil, preemptible: Bool = false, price: Double
    ) {
        self.name = name
        self.providerType = providerType
        self.vcpus = vcpus
        self.ram = ram
        self.scratch = scratch
        self.addedScratch = addedScratch
        self.gpu = gpu
        self.preemptible = preemptible
        self.price = price
    }
}

/// `create`: make `count` instances of one type, all with exactly `tags`.
public struct CreateRequest: Codable, Sendable, Hashable {

    enum CodingKeys: String, CodingKey {
        case instanceType = "instance_type"
        case image
        case tags
        case initScript = "init_script"
        case sshPublicKey = "ssh_public_key"
        case count
        case idempotencyToken = "idempotency_token"
        case firstSend = "first_send"
    }
    public var instanceType: InstanceTypeSpec
    public var image: String?
    public var tags: [String: String]
    /// Shell script the instance runs once at boot.
    public var initScript: String?
    /// OpenSSH one-line public key to authorize for the instance's SSH user.
    public var sshPublicKey: String?
    public var count: Int
    /// Repeating a request with the same token returns the first request's instances.
    public var idempotencyToken: String?
    /// True when this token was never sent before (its intent was recorded just now), so no
    /// instance can carry it yet and the driver may skip looking for earlier ones. Left out
    /// (nil) on every resend, and by hosts that do not know it.
    public var firstSend: Bool?

    public init(
        instanceType: InstanceTypeSpec, image: String? = nil, tags: [String: String],
        initScript: String? = nil, sshPublicKey: String? = nil, count: Int = 1,
        idempotencyToken: String? = nil, firstSend: Bool? = nil
    ) {
        self.instanceType = instanceType
        self.image = image
        self.tags = tags
        self.initScript = initScript
        self.sshPublicKey = sshPublicKey
        self.count = count
        self.idempotencyToken = idempotencyToken
        self.firstSend = firstSend
    }
}

/// Provider-side state of an instance.
public enum InstanceState: String, Codable, Sendable, Hashable {
    case pending, running, stopping, stopped
}

/// One instance as a driver reports it.
public struct Instance: Codable, Sendable, Hashable {

    enum CodingKeys: String, CodingKey {
        case id
        case providerType = "provider_type"
        case state
        case address
        case sshPort = "ssh_port"
        case sshUser = "ssh_user"
        case hostKey = "host_key"
        case tags
        case preemptible
        case createdAt = "created_at"
        case price
        case extra
    }
    public var id: String
    public var providerType: String
    public var state: InstanceState
    /// Host or IP to reach by SSH; empty while unknown.
    public var address: String
    public var sshPort: Int?
    public var sshUser: String?
    /// OpenSSH one-line host public key, when the driver knows it.
    public var hostKey: String?
    public var tags: [String: String]
    public var preemptible: Bool?
    public var createdAt: String?
    public var price: Double?
    public var extra: JSONValue?

    public init(
        id: String, providerType: String, state: InstanceState, address: String, sshPort: Int? = nil, sshUser: String? = nil,
        hostKey: String? = nil, tags: [String: String] = [:], preemptible: Bool? = nil, createdAt: String? = nil,
        price: Double? = nil, extra: JSONValue? = nil
    ) {
        self.id = id
        self.providerType = providerType
        self.state = state
        self.address = address
        self.sshPort = sshPort
        self.sshUser = sshUser
        self.hostKey = hostKey
        self.tags = tags
        self.preemptible = preemptible
        self.createdAt = createdAt
        self.price = price
        self.extra = extra
    }
}

/// What a driver can do.
public struct Capabilities: Codable, Sendable, Hashable {

    enum CodingKeys: String, CodingKey {
        case simulated
        case idempotentCreate = "idempotent_create"
        case maxCreateCount = "max_create_count"
        case maxDestroyBatch = "max_destroy_batch"
        case preemptible
        case hostKeys = "host_keys"
        case initScript = "init_script"
        case extensions
    }
    /// Instances cost nothing and touch no real cloud.
    public var simulated: Bool
    public var idempotentCreate: Bool
    public var maxCreateCount: Int
    public var maxDestroyBatch: Int
    public var preemptible: Bool
    public var hostKeys: Bool
    public var initScript: Bool
    public var extensions: [String]
}

/// `destroy`'s per-id outcome.
public struct DestroyResult: Codable, Sendable, Hashable {
    public struct Failure: Codable, Sendable, Hashable {
        public var id: String
        public var `class`: ErrorClass
        public var message: String
    }
    public var destroyed: [String]
    public var failed: [Failure]
}

/// One entry of a driver's instance-type catalogue.
public struct CatalogInstanceType: Codable, Sendable, Hashable {

    enum CodingKeys: String, CodingKey {
        case providerType = "provider_type"
        case vcpus
        case ram
        case scratch
        case gpu
        case price
        case spotPrice = "spot_price"
    }
    public var providerType: String
    public var vcpus: Int
    public var ram: Int64
    public var scratch: Int64?
    public var gpu: GPUSpec?
    public var price: Double?
    public var spotPrice: Double?
}

// Request and reply envelopes.
struct ListRequest: Codable { var tags: [String: String] }
struct InstancesReply: Codable { var instances: [Instance] }
struct DestroyRequest: Codable { var ids: [String] }
struct SetTagsRequest: Codable { var ids: [String]; var tags: [String: String] }
struct EmptyPayload: Codable {}
struct CatalogReply: Codable {
    var instanceTypes: [CatalogInstanceType]
    enum CodingKeys: String, CodingKey { case instanceTypes = "instance_types" }
}
struct QuotaGroupRequest: Codable {
    var providerType: String
    var preemptible: Bool
    enum CodingKeys: String, CodingKey { case providerType = "provider_type", preemptible }
}
struct QuotaGroupReply: Codable { var group: String }
