/// The Swift face of a cloud driver: what the rest of the host uses, whatever language the
/// driver is written in. `NativeDriver` serves it for a loaded `.so`; tests may serve it with
/// in-memory doubles.
///
///     let set = try await driver.openInstanceSet(id: "prod-1", config: #"{"region":"eu-west-1"}"#)
///     let made = try await set.create(CreateRequest(instanceType: small, tags: tags, count: 2))
///     try await set.destroy(ids: made.map(\.id))
public protocol CloudDriver: Sendable {
    var info: DriverInfo { get }
    func capabilities() async throws(DriverError) -> Capabilities
    /// Opens one configured account/region. `config` is a JSON object.
    func openInstanceSet(id: String, config: String) async throws(DriverError) -> any InstanceSet
}

/// One account/region of a cloud, as opened by a driver. All methods may be called
/// concurrently; each is bounded by the driver's call timeout.
public protocol InstanceSet: Sendable {
    var id: String { get }
    var driverID: String { get }
    func create(_ request: CreateRequest) async throws(DriverError) -> [Instance]
    /// Instances whose tags include every pair in `tags`.
    func list(tags: [String: String]) async throws(DriverError) -> [Instance]
    func destroy(ids: [String]) async throws(DriverError) -> DestroyResult
    /// Merges `tags` into each instance's tags.
    func setTags(ids: [String], tags: [String: String]) async throws(DriverError)
    func instanceTypes() async throws(DriverError) -> [CatalogInstanceType]
    func quotaGroup(providerType: String, preemptible: Bool) async throws(DriverError) -> String
    /// Releases the set; instances are left as they are.
    func close() async
}

/// Identity of a loaded driver or executor backend, as `cloud-dispatch drivers` shows it.
public struct DriverInfo: Sendable, Hashable, Codable {
    public var id: String
    public var version: String
    public var description: String
    /// The agreed ABI version, "major.minor".
    public var abi: String
    /// Where it was found in the plugins folder.
    public var path: String
    /// The file loaded, when `path` is a symbolic link.
    public var realPath: String?
    /// A cloud driver or an executor backend.
    public var kind: PluginKind = .driver

    enum CodingKeys: String, CodingKey {
        case id, version, description, abi, path, kind
        case realPath = "real_path"
    }

    init(id: String, version: String, description: String, abi: String, path: String, realPath: String?, kind: PluginKind) {
        self.id = id
        self.version = version
        self.description = description
        self.abi = abi
        self.path = path
        self.realPath = realPath
        self.kind = kind
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        version = try c.decode(String.self, forKey: .version)
        description = try c.decode(String.self, forKey: .description)
        abi = try c.decode(String.self, forKey: .abi)
        path = try c.decode(String.self, forKey: .path)
        realPath = try c.decodeIfPresent(String.self, forKey: .realPath)
        // Absent in what an older host wrote: those were all drivers.
        kind = try c.decodeIfPresent(PluginKind.self, forKey: .kind) ?? .driver
    }
}
