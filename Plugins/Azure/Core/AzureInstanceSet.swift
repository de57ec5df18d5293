import DriverSupport
import Foundation
import PluginABI
import Synchronization

/// One open instance set: a subscription, resource group and location as configured, and the
/// driver operations on it, JSON in and JSON out. [thread-safe]: the caches are behind mutexes.
///
///     let set = try AzureInstanceSet.open(setID: "prod-1", config: json, environment: env)
///     let reply = try set.list(Data(#"{"tags": {"cloud-dispatch-instance-set": "prod-1"}}"#.utf8))
public final class AzureInstanceSet: DriverInstanceSet {
    /// Instances one create may ask for (each is its own NIC + VM PUT).
    public static let maxCreateCount = 20
    public static let maxDestroyBatch = 100

    public let setID: String
    public let config: AzureConfig
    public let arm: ARMClient
    let log: Logger
    let clock: @Sendable () -> Int
    let catalogue = Mutex<(entries: [CatalogueEntry], at: Int)?>(nil)
    /// When the last leftover sweep ran (epoch seconds).
    let lastSweep = Mutex<Int>(0)
    /// VMs this set is deleting, so their power state is not taken for a spot eviction.
    let destroying = Mutex<Set<String>>([])
    /// VMs this set destroyed: their tokens are spent (the ABI never lets a token make instances
    /// twice). Remembered for 24 hours, as GCE keeps its spent tokens; after that, or after a
    /// restart, ARM's own record decides.
    let destroyedNames = ExpiringSet(lifetime: 86_400)

    public init(setID: String, config: AzureConfig, arm: ARMClient, log: @escaping Logger = { _, _ in },
                clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.setID = setID
        self.config = config
        self.arm = arm
        self.log = log
        self.clock = clock
    }

    /// Parses the config and wires libcurl; no network call (tokens are fetched on first use).
    public static func open(setID: String, config text: String, environment: [String: String],
                            log: @escaping Logger = { _, _ in }) throws(DriverError) -> AzureInstanceSet {
        let config = try AzureConfig.parse(text, environment: environment)
        let transport = CurlTransport(config.common, environment: environment)
        let tokens = TokenSource(settings: config.auth, transport: transport, log: log)
        let arm = ARMClient(config: config, tokens: tokens, transport: transport, log: log)
        log(.info, "instance set \(setID): subscription \(config.subscriptionID), group \(config.resourceGroup), \(config.location), "
            + (config.auth.clientSecret != nil ? "client secret of \(config.auth.clientID ?? "?")"
               : config.auth.clientCertificatePath != nil ? "certificate of \(config.auth.clientID ?? "?")" : "managed identity"))
        return AzureInstanceSet(setID: setID, config: config, arm: arm, log: log)
    }

    /// What the entry glue fills the host's table with.
    public static let driver = DriverDescription(
        id: "azure", version: "1.0.0", summary: "Microsoft Azure (Resource Manager REST, libcurl)",
        capabilities: CapabilitiesReply(maxCreateCount: maxCreateCount, maxDestroyBatch: maxDestroyBatch, extensions: [CDD_EXT_INTERRUPTIONS])
    ) { setID, config, environment, log throws(DriverError) in
        try open(setID: setID, config: config, environment: environment, log: log)
    }

    // MARK: list

    public func list(_ body: Data) throws(DriverError) -> Data {
        let request = try ListRequest.decode(body)
        let vms = try virtualMachines().filter { vm in !vm.isGoing && request.tags.allSatisfy { vm.tags[$0.key] == $0.value } }
        let nics = vms.isEmpty ? [] : try arm.list(arm.groupPath(.networkInterface), apiVersion: APIVersions.network)
        let ips = vms.isEmpty || !config.usePublicIP ? [] : try arm.list(arm.groupPath(.publicIPAddress), apiVersion: APIVersions.network)
        sweepIfDue(nics: vms.isEmpty ? nil : nics, ips: config.usePublicIP && !vms.isEmpty ? ips : nil)
        let addresses = Self.addresses(nics: nics, publicIPs: ips)
        return Payload.encode(InstancesReply(instances: vms.sorted { $0.name < $1.name }.map { vm in
            vm.reply(sshUser: config.adminUsername, address: vm.nicIDs.first.flatMap { addresses[$0.lowercased()] },
                     usePublicIP: config.usePublicIP)
        }))
    }

    /// Every VM of the resource group, with its instance view (power state).
    func virtualMachines() throws(DriverError) -> [AzureVM] {
        try arm.list(arm.groupPath(.virtualMachine), apiVersion: APIVersions.virtualMachines, query: [("$expand", "instanceView")])
            .map(AzureVM.init)
    }

    /// NIC id (lowercased: ARM ids are case-insensitive) → its addresses.
    static func addresses(nics: [JSONValue], publicIPs: [JSONValue]) -> [String: Addresses] {
        var ipByID: [String: String] = [:]
        for ip in publicIPs {
            if let id = ip["id"].string, let address = ip["properties"]["ipAddress"].string { ipByID[id.lowercased()] = address }
        }
        var out: [String: Addresses] = [:]
        for nic in nics {
            guard let id = nic["id"].string else { continue }
            let configs = nic["properties"]["ipConfigurations"].array ?? []
            let primary = configs.first { $0["properties"]["primary"].bool == true } ?? configs.first ?? .null
            let p = primary["properties"]
            out[id.lowercased()] = Addresses(privateIP: p["privateIPAddress"].string,
                                             publicIP: p["publicIPAddress"]["id"].string.flatMap { ipByID[$0.lowercased()] })
        }
        return out
    }

    // MARK: set_tags

    /// Merges tags into each VM: GET, merge, PATCH with the VM's etag (`If-Match`), so a tag
    /// written by someone else in between is not lost; a lost race is tried again.
    public func setTags(_ body: Data) throws(DriverError) -> Data {
        let request = try SetTagsRequest.decode(body)
        if let bad = request.ids.first(where: { !Names.isResourceName($0) || !$0.hasPrefix(Names.setPrefix(setID)) }) {
            throw DriverError(.notFound, "no instance \(bad.prefix(64)) in this instance set", code: "ResourceNotFound")
        }
        guard !request.tags.isEmpty else { return Payload.encode(Empty()) }
        for id in request.ids {
            var attempt = 0
            while true {
                attempt += 1
                let vm = AzureVM(try arm.call("GET", arm.groupPath(.virtualMachine, id), apiVersion: APIVersions.virtualMachines).json)
                let merged = vm.tags.merging(request.tags) { $1 }
                do throws(DriverError) {
                    try arm.call("PATCH", arm.groupPath(.virtualMachine, id), apiVersion: APIVersions.virtualMachines,
                                 body: ["tags": .strings(merged)], headers: vm.etag.map { [("If-Match", $0)] } ?? [])
                    break
                } catch {
                    guard error.httpStatus == 412, attempt < 3 else { throw error }
                }
            }
        }
        return Payload.encode(Empty())
    }

    // MARK: quota_group

    /// The VM family's quota (`standardDSv3Family`), or `lowPriorityCores` for spot: the
    /// regional limits Azure counts cores against. Types outside the catalogue are `invalid`.
    public func quotaGroup(_ body: Data) throws(DriverError) -> Data {
        let request = try QuotaGroupRequest.decode(body)
        if let override = config.common.quotaGroups[request.providerType] { return Payload.encode(QuotaGroupReply(group: override)) }
        guard let entry = try entries().first(where: { $0.providerType.lowercased() == request.providerType.lowercased() }) else {
            throw .invalid("provider_type: \"\(request.providerType)\" is not a VM size offered in \(config.location)")
        }
        if request.preemptible { return Payload.encode(QuotaGroupReply(group: "lowPriorityCores")) }
        let family = entry.family ?? entry.providerType
        return Payload.encode(QuotaGroupReply(group: config.common.quotaGroups[family] ?? family))
    }
}
