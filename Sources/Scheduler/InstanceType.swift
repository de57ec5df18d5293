/// Resources of an instance, or what a container needs of one.
public struct Resources: Sendable, Hashable {
    public var vcpus: Int
    /// Bytes.
    public var ram: Int64
    /// Bytes of local disk.
    public var scratch: Int64
    public var gpus: Int

    public init(vcpus: Int, ram: Int64, scratch: Int64 = 0, gpus: Int = 0) {
        self.vcpus = vcpus
        self.ram = ram
        self.scratch = scratch
        self.gpus = gpus
    }

    public static let zero = Resources(vcpus: 0, ram: 0)

    public func covers(_ need: Resources) -> Bool {
        vcpus >= need.vcpus && ram >= need.ram && scratch >= need.scratch && gpus >= need.gpus
    }

    public static func + (a: Resources, b: Resources) -> Resources {
        Resources(vcpus: a.vcpus + b.vcpus, ram: a.ram + b.ram, scratch: a.scratch + b.scratch, gpus: a.gpus + b.gpus)
    }

    public static func - (a: Resources, b: Resources) -> Resources {
        Resources(vcpus: a.vcpus - b.vcpus, ram: a.ram - b.ram, scratch: a.scratch - b.scratch, gpus: a.gpus - b.gpus)
    }
}

/// An instance type the operator configured: what it offers and what it costs.
public struct InstanceType: Sendable, Hashable {
    /// The operator's name for it (unique; the tag on its instances).
    public var name: String
    /// The cloud's name for it ("m5.large").
    public var providerType: String
    public var vcpus: Int
    /// Bytes, as the provider advertises.
    public var ram: Int64
    /// Bytes of local disk, included and added together.
    public var scratch: Int64
    /// Bytes of that scratch the driver must attach at create.
    public var addedScratch: Int64
    public var gpuCount: Int
    /// "cuda" or "rocm" when gpuCount > 0.
    public var gpuStack: String
    /// Bytes of memory per GPU.
    public var gpuVRAM: Int64
    /// Per hour, in the operator's currency.
    public var price: Double
    public var preemptible: Bool
    /// The account limit it counts against (from config, else the driver's answer).
    public var quotaGroup: String

    public init(
        name: String, providerType: String? = nil, vcpus: Int, ram: Int64, scratch: Int64 = 0, addedScratch: Int64 = 0,
        gpuCount: Int = 0, gpuStack: String = "", gpuVRAM: Int64 = 0, price: Double, preemptible: Bool = false,
        quotaGroup: String = "default"
    ) {
        self.name = name
        self.providerType = providerType ?? name
        self.vcpus = vcpus
        self.ram = ram
        self.scratch = scratch
        self.addedScratch = addedScratch
        self.gpuCount = gpuCount
        self.gpuStack = gpuStack
        self.gpuVRAM = gpuVRAM
        self.price = price
        self.preemptible = preemptible
        self.quotaGroup = quotaGroup
    }

    /// What containers may use: RAM less what the system keeps (see `Reserve`).
    public var usable: Resources {
        Resources(vcpus: vcpus, ram: ram - Reserve.systemRAM(of: ram), scratch: scratch, gpus: gpuCount)
    }
}

/// What an instance keeps for itself, so a container never gets the whole machine:
/// 5% of the advertised RAM, at least 256 MiB (the OS, the runner, the container runtime).
public enum Reserve {
    public static func systemRAM(of ram: Int64) -> Int64 { max(256 << 20, ram / 20) }
}
