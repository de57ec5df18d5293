import DriverSupport
import Foundation
import PluginABI
import Synchronization

/// One open instance set: an account and region as configured, and the driver operations on
/// it, JSON in and JSON out. [thread-safe]: the few caches are behind mutexes.
///
///     let set = try EC2InstanceSet.open(setID: "prod-1", config: json, environment: env)
///     let reply = try set.list(Data(#"{"tags": {"cloud-dispatch-instance-set": "prod-1"}}"#.utf8))
public final class EC2InstanceSet: DriverInstanceSet {
    public static let maxCreateCount = 100
    /// Tag key put on shared resources (imported key pairs) with the set id.
    public static let setTagKey = "cloud-dispatch-instance-set"
    /// Tag the driver puts on every instance it launches, with the set id, and leaves out of
    /// replies (an instance carries exactly the request's tags): destroy and set_tags act only
    /// on instances of this set (docs/driver-abi.md §7a).
    public static let memberTagKey = "cloud-dispatch-driver-set"

    public let setID: String
    public let config: EC2Config
    public let client: EC2Client
    let log: Logger
    let clock: @Sendable () -> Int
    /// Public key → key pair name, once imported.
    let keyPairs = Mutex<[String: String]>([:])
    /// The subnet that last took a launch: tried first next time.
    let preferredSubnet = Mutex<Int>(0)
    let catalogue = Mutex<(entries: [CatalogueEntry], at: Int)?>(nil)

    public init(setID: String, config: EC2Config, client: EC2Client, log: @escaping Logger = { _, _ in },
                clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.setID = setID
        self.config = config
        self.client = client
        self.log = log
        self.clock = clock
    }

    /// Parses the config and wires libcurl; no network call (credentials are found on first use).
    public static func open(setID: String, config text: String, environment: [String: String],
                            log: @escaping Logger = { _, _ in }) throws(DriverError) -> EC2InstanceSet {
        let config = try EC2Config.parse(text, environment: environment)
        let chain = CredentialChain(settings: config.credentials, environment: environment)
        let transport = CurlTransport(config.common, environment: environment)
        let client = EC2Client(config: config, credentials: chain, transport: transport, log: log)
        log(.info, "instance set \(setID): region \(config.region), endpoint \(config.endpoint)")
        return EC2InstanceSet(setID: setID, config: config, client: client, log: log)
    }

    /// What the entry glue fills the host's table with.
    public static let driver = DriverDescription(
        id: "ec2", version: "1.0.0", summary: "Amazon EC2 (Query API, SigV4, libcurl)",
        capabilities: CapabilitiesReply(maxCreateCount: maxCreateCount, maxDestroyBatch: 1000)
    ) { setID, config, environment, log throws(DriverError) in
        try open(setID: setID, config: config, environment: environment, log: log)
    }

    // MARK: list

    public func list(_ body: Data) throws(DriverError) -> Data {
        let request = try ListRequest.decode(body)
        let found = try describe(tags: request.tags)
        return Payload.encode(InstancesReply(instances: found.map {
            i in i.reply(sshUser: config.adminUsername, usePublicIP: config.usePublicIP, tags: i.tags.filter { $0.key != Self.memberTagKey })
        }))
    }

    /// Live instances whose tags include every pair of `tags`, across pages. EC2 filters
    /// server side; the exact match is repeated here because EC2 filter values treat `*` and
    /// `?` as wildcards.
    public func describe(tags: [String: String]) throws(DriverError) -> [EC2Instance] {
        var filters = tags.keys.sorted().map { ("tag:\($0)", [tags[$0]!]) }
        filters.append(("instance-state-name", EC2Instance.liveStates))
        let all = try paged(action: "DescribeInstances", filters: filters, maxResults: config.pageSize, extract: EC2Instance.all)
        var seen = Set<String>()
        return all.filter { i in
            i.isLive && tags.allSatisfy { i.tags[$0.key] == $0.value } && seen.insert(i.id).inserted
        }
    }

    /// Every page of `action`, following NextToken (`Paging`; MaxResults left out when nil).
    func paged<T>(action: String, filters: [(String, [String])], extra: [(String, String)] = [],
                  maxResults: Int?, extract: (XMLNode) -> [T]) throws(DriverError) -> [T] {
        try Paging.all(action, token: "NextToken", maxPages: config.common.maxPages) { token throws(DriverError) in
            var p = QueryParams(action: action)
            p.filters(filters)
            for (k, v) in extra { p.set(k, v) }
            if let maxResults { p.set("MaxResults", String(maxResults)) }
            if let token { p.set("NextToken", token) }
            let page = try client.call(p)
            return (extract(page), page.text("nextToken"))
        }
    }

    // MARK: set_tags

    public func setTags(_ body: Data) throws(DriverError) -> Data {
        let request = try SetTagsRequest.decode(body)
        if let bad = request.ids.first(where: { !EC2Instance.isWellFormedID($0) }) {
            throw DriverError(.notFound, "no instance \(bad) (not an EC2 instance id)", code: "InvalidInstanceID.Malformed")
        }
        if let foreign = try foreignAmong(request.ids).sorted().first {
            throw DriverError(.notFound, "no instance \(foreign) in instance set \(setID) (another set launched it)")
        }
        guard !request.tags.isEmpty else { return Payload.encode(Empty()) }
        var p = QueryParams(action: "CreateTags")
        p.list("ResourceId", request.ids)
        p.tags("Tag", request.tags)
        _ = try client.call(p)
        return Payload.encode(Empty())
    }

    /// Those of `ids` another instance set launched: their member tag names another set.
    /// Instances without it (launched before the tag existed) count as this set's.
    func foreignAmong(_ ids: [String]) throws(DriverError) -> Set<String> {
        let foreign = try describe(ids: ids).filter { i in i.tags[Self.memberTagKey].map { $0 != setID } ?? false }
        return Set(foreign.map(\.id)).intersection(ids)
    }

    // MARK: quota_group

    public func quotaGroup(_ body: Data) throws(DriverError) -> Data {
        let request = try QuotaGroupRequest.decode(body)
        // Without a catalogue call (it costs a request per type), the shape is what can be
        // checked: every EC2 type is FAMILY.SIZE ("m5.large", "u-6tb1.metal").
        let parts = request.providerType.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } }) else {
            throw .invalid("provider_type: \"\(request.providerType)\" is not an EC2 instance type (family.size, as m5.large)")
        }
        return Payload.encode(QuotaGroupReply(group: QuotaGroups.group(for: request.providerType, preemptible: request.preemptible,
                                                                       overrides: config.common.quotaGroups)))
    }
}
