import DriverSupport
import Foundation
import PluginABI
import Synchronization

/// One open instance set: a project and its zones as configured, and the driver operations on
/// it, JSON in and JSON out. [thread-safe]: the caches are behind mutexes.
public final class GCEInstanceSet: DriverInstanceSet {
    /// bulkInsert takes up to 1,000 instances in one call.
    public static let maxCreateCount = 1000

    public let setID: String
    /// This set's `Labels.setKey` value.
    public let setLabel: String
    public let config: GCEConfig
    public let client: GCEClient
    let log: Logger
    /// The zone that last took a create: tried first next time.
    let preferredZone = Mutex<Int>(0)
    let catalogue = Mutex<(entries: [CatalogueEntry], at: Date)?>(nil)
    /// Idempotency tokens of creates that succeeded here, for 24 hours (GCE itself remembers a
    /// requestId for at least an hour, across processes).
    let spentTokens = ExpiringSet(lifetime: 86_400)

    public init(setID: String, config: GCEConfig, client: GCEClient, log: @escaping Logger = { _, _ in }) {
        self.setID = setID
        self.setLabel = Labels.setValue(setID)
        self.config = config
        self.client = client
        self.log = log
    }

    /// Parses the config, reads the credentials file and wires libcurl; no network call.
    public static func open(setID: String, config text: String, environment: [String: String],
                            log: @escaping Logger = { _, _ in }) throws(DriverError) -> GCEInstanceSet {
        let config = try GCEConfig.parse(text)
        let transport = CurlTransport(config.common, environment: environment)
        let found = try Credentials.find(config: config, environment: environment, transport: transport)
        guard let project = config.project ?? found.projectID ?? environment["GOOGLE_CLOUD_PROJECT"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw .invalid("config.project: required (or a service-account key naming project_id, or GOOGLE_CLOUD_PROJECT)")
        }
        let client = GCEClient(config: config, project: project, token: CachedToken(source: found.source), transport: transport, log: log)
        log(.info, "instance set \(setID): project \(project), zones \(config.zones.joined(separator: " ")), credentials: \(found.source.name)")
        return GCEInstanceSet(setID: setID, config: config, client: client, log: log)
    }

    /// What the entry glue fills the host's table with.
    public static let driver = DriverDescription(
        id: "gce", version: "1.0.0", summary: "Google Compute Engine (Compute v1 REST, OAuth2, libcurl)",
        capabilities: CapabilitiesReply(maxCreateCount: maxCreateCount, maxDestroyBatch: 1000, extensions: [CDD_EXT_INTERRUPTIONS])
    ) { setID, config, environment, log throws(DriverError) in
        try open(setID: setID, config: config, environment: environment, log: log)
    }

    // MARK: list

    public func list(_ body: Data) throws(DriverError) -> Data {
        let request = try ListRequest.decode(body)
        let found = try instances(tags: request.tags)
        return Payload.encode(InstancesReply(instances: found.compactMap { $0.reply(config: config) }.sorted { $0.id < $1.id }))
    }

    /// Live instances whose tags include every pair of `tags`, in every zone of the project
    /// (`aggregatedList`, filtered by label server side, exactly again here). Every page or none:
    /// a page naming `unreachables` fails the call (Compute v1's aggregatedList has no
    /// `returnPartialSuccess`, so an unreachable zone can only be reported, never skipped).
    public func instances(tags: [String: String]) throws(DriverError) -> [GCEInstance] {
        var (labels, _) = Labels.split(tags)
        labels[Labels.setKey] = setLabel  // only this set's instances: another set's are not ours to report
        let query = [("filter", Self.filter(labels: labels)), ("maxResults", String(config.pageSize))]
        let all = try paged("aggregated/instances", query: query) { page throws(DriverError) -> [GCEInstance] in
            if let unreachable = page["unreachables"].array, !unreachable.isEmpty {
                let names = unreachable.compactMap(\.string).joined(separator: " ")
                throw DriverError(.transient, "aggregated list: unreachable \(names); refusing a partial list", code: "unreachable")
            }
            var out: [GCEInstance] = []
            for (_, scoped) in page["items"].object ?? [:] {
                out += (scoped["instances"].array ?? []).compactMap(GCEInstance.init)
            }
            return out
        }
        var seen = Set<String>()
        return all.filter { i in
            i.state != nil && i.setLabel == setLabel && tags.allSatisfy({ i.tags[$0.key] == $0.value }) && seen.insert(i.id).inserted
        }
    }

    /// `(labels.k = "v") (labels.k2 = "v2")`: every expression must hold.
    public static func filter(labels: [String: String]) -> String {
        labels.keys.sorted().map { "(labels.\($0) = \"\(labels[$0]!)\")" }.joined(separator: " ")
    }

    /// Every page of `path`, following `nextPageToken` (`Paging`).
    func paged<T>(_ path: String, query: [(String, String)], extract: (JSONValue) throws(DriverError) -> [T]) throws(DriverError) -> [T] {
        try Paging.all(path, token: "nextPageToken", maxPages: config.common.maxPages) { token throws(DriverError) in
            let page = try client.call("GET", path, query: query + (token.map { [("pageToken", $0)] } ?? []))
            return (try extract(page), page["nextPageToken"].string)
        }
    }

    // MARK: set_tags

    public func setTags(_ body: Data) throws(DriverError) -> Data {
        let request = try SetTagsRequest.decode(body)
        for id in request.ids {
            guard let (zone, name) = GCEInstance.parseID(id) else {
                throw DriverError(.notFound, "no instance \(id) (not a ZONE/NAME id of this driver)")
            }
            guard !request.tags.isEmpty else { continue }
            try merge(tags: request.tags, zone: zone, name: name)
        }
        return Payload.encode(Empty())
    }

    /// setLabels (and setMetadata for tags that cannot be labels) with the fingerprints just
    /// read; a stale fingerprint (412) is read again and tried once more.
    func merge(tags: [String: String], zone: String, name: String) throws(DriverError) {
        for attempt in 0..<2 {
            guard let current = GCEInstance(try client.call("GET", "zones/\(zone)/instances/\(name)")) else {
                throw DriverError(.internal, "instances.get \(zone)/\(name): no name or zone in the answer")
            }
            guard current.setLabel == setLabel else {
                throw DriverError(.notFound, "no instance \(zone)/\(name) in instance set \(setID) (another set's, or not made by this driver)")
            }
            let merged = current.tags.merging(tags) { _, new in new }
            var (labels, overflow) = Labels.split(merged)
            labels[Labels.setKey] = setLabel
            do throws(DriverError) {
                if labels != current.labels {
                    let op = try client.call("POST", "zones/\(zone)/instances/\(name)/setLabels", body: .object([
                        "labels": .object(labels.mapValues(JSONValue.string)),
                        "labelFingerprint": .string(current.labelFingerprint ?? ""),
                    ]))
                    _ = try client.wait(op, what: "setLabels \(zone)/\(name)")
                }
                if !overflow.isEmpty || current.metadataItems[Labels.overflowKey] != nil {
                    try setOverflow(overflow, on: current)
                }
                return
            } catch where error.httpStatus == 412 && attempt == 0 {
                log(.info, "set_tags \(zone)/\(name): stale fingerprint, reading again")
            }
        }
        throw DriverError(.transient, "set_tags \(zone)/\(name): fingerprint changed twice while tagging", code: "conditionNotMet", httpStatus: 412)
    }

    func setOverflow(_ overflow: [String: String], on instance: GCEInstance) throws(DriverError) {
        var items = instance.metadataItems
        items[Labels.overflowKey] = overflow.isEmpty ? nil : String(decoding: JSONValue.object(overflow.mapValues(JSONValue.string)).bytes, as: UTF8.self)
        guard items != instance.metadataItems else { return }
        let op = try client.call("POST", "zones/\(instance.zone)/instances/\(instance.name)/setMetadata", body: .object([
            "fingerprint": .string(instance.metadataFingerprint ?? ""),
            "items": .array(items.keys.sorted().map { .object(["key": .string($0), "value": .string(items[$0]!)]) }),
        ]))
        _ = try client.wait(op, what: "setMetadata \(instance.id)")
    }

    // MARK: interruptions

    /// Spot instances of this set that GCE is stopping or has stopped (a preemption): the
    /// host learns of a reclaim before the instance vanishes.
    public func interruptions(_ body: Data) throws(DriverError) -> Data {
        let now = ISO8601DateFormatter().string(from: Date())
        let reclaimed = try instances(tags: [:]).filter { $0.spot && ($0.status == "STOPPING" || $0.status == "TERMINATED") }
        return Payload.encode(NoticesReply(notices: reclaimed.map { .init(id: $0.id, at: now) }))
    }
}
