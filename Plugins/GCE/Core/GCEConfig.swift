import DriverSupport
import Foundation

/// An instance set's configuration (the operator's JSON object). Every key is listed in
/// docs/drivers/gce.md; an unknown or malformed key is refused with its name.
public struct GCEConfig: Sendable {
    public var project: String?
    /// Zones tried in order; a zone out of capacity fails over to the next inside one create.
    public var zones: [String]
    /// Base URL of Compute v1, ending in `compute/v1/` (tests, Private Service Connect).
    public var apiRoot = "https://compute.googleapis.com/compute/v1/"
    public var credentialsFile: String?
    /// Replaces the key file's `token_uri`.
    public var tokenURI: String?
    public var metadataHost: String?
    public var useMetadataServer = true
    public var image: String?
    public var network = "global/networks/default"
    public var subnetwork: String?
    public var networkTags: [String] = []
    public var externalIP = false
    public var usePublicAddress = false
    public var serviceAccount: String?
    public var scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    public var sshUser = "cloud-dispatch"
    public var bootDiskSizeGB = 20
    public var bootDiskType = "pd-balanced"
    public var scratchDiskType = "pd-balanced"
    /// Accept fewer instances than asked for (bulkInsert minCount 1).
    public var partialLaunch = false
    public var spotPrices: [String: Double] = [:]
    public var pageSize = 500
    public var destroyParallelism = 16
    public var operationTimeoutMs = 90_000
    /// The keys every driver has: catalogue shaping, timeouts, CA bundle, paging, throttling hint.
    public var common = CommonSettings(throttleRetryMs: 2_000, maxPages: 50)

    /// Its own keys, and those every driver has (`CommonSettings`).
    static let keys = CommonSettings.keys.union([
        "project", "zones", "api_root", "credentials_file", "token_uri", "metadata_host", "use_metadata_server", "image",
        "network", "subnetwork", "network_tags", "external_ip", "use_public_address", "service_account", "scopes", "ssh_user",
        "boot_disk_size_gb", "boot_disk_type", "scratch_disk_type", "partial_launch", "spot_prices", "page_size",
        "destroy_parallelism", "operation_timeout",
    ])

    /// GCE resource names: `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63.
    static func isName(_ s: String) -> Bool {
        guard let first = s.utf8.first, let last = s.utf8.last, s.utf8.count <= 63,
              (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), last != UInt8(ascii: "-") else { return false }
        return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }

    public static func parse(_ text: String) throws(DriverError) -> GCEConfig {
        let r = try ConfigReader(parsing: text, keys: keys, docs: "docs/drivers/gce.md")
        guard let zones = try r.strings("zones"), !zones.isEmpty else { throw .invalid("config.zones: required, a list of zones such as [\"us-central1-a\"]") }
        if let bad = zones.first(where: { !isName($0) }) { throw .invalid("config.zones: \"\(bad)\" is not a zone name") }
        guard Set(zones).count == zones.count else { throw .invalid("config.zones: a zone is listed twice") }
        var c = GCEConfig(zones: zones)
        c.project = try r.string("project")
        if let p = c.project, !p.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == ":" || $0 == "." }) {
            throw .invalid("config.project: malformed \"\(p)\"")
        }
        if var root = try r.string("api_root") {
            guard root.hasPrefix("https://") || root.hasPrefix("http://") else { throw .invalid("config.api_root: must be an http(s) URL") }
            if !root.hasSuffix("/") { root += "/" }
            c.apiRoot = root
        }
        c.credentialsFile = try r.string("credentials_file")
        c.tokenURI = try r.string("token_uri")
        if let t = c.tokenURI, !(t.hasPrefix("https://") || t.hasPrefix("http://")) { throw .invalid("config.token_uri: must be an http(s) URL") }
        c.metadataHost = try r.string("metadata_host")
        c.useMetadataServer = try r.bool("use_metadata_server") ?? true
        c.image = try r.string("image")
        c.network = try r.string("network") ?? c.network
        c.subnetwork = try r.string("subnetwork")
        c.networkTags = try r.strings("network_tags") ?? []
        if let bad = c.networkTags.first(where: { !isName($0) }) { throw .invalid("config.network_tags: \"\(bad)\" is not a valid network tag") }
        c.externalIP = try r.bool("external_ip") ?? false
        c.usePublicAddress = try r.bool("use_public_address") ?? c.externalIP
        if c.usePublicAddress && !c.externalIP { throw .invalid("config.use_public_address: needs external_ip true") }
        c.serviceAccount = try r.string("service_account")
        c.scopes = try r.strings("scopes") ?? c.scopes
        c.sshUser = try r.string("ssh_user") ?? c.sshUser
        guard c.sshUser.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw .invalid("config.ssh_user: letters, digits, _ and - only")
        }
        c.bootDiskSizeGB = try r.int("boot_disk_size_gb", 10...65_536) ?? c.bootDiskSizeGB
        c.bootDiskType = try r.string("boot_disk_type") ?? c.bootDiskType
        c.scratchDiskType = try r.string("scratch_disk_type") ?? c.scratchDiskType
        c.partialLaunch = try r.bool("partial_launch") ?? false
        c.spotPrices = try r.prices("spot_prices") ?? [:]
        c.pageSize = try r.int("page_size", 1...500) ?? c.pageSize
        c.destroyParallelism = try r.int("destroy_parallelism", 1...64) ?? c.destroyParallelism
        c.operationTimeoutMs = (try r.int("operation_timeout", 1...600)).map { $0 * 1000 } ?? c.operationTimeoutMs
        c.common = try CommonSettings(r, defaults: c.common)
        return c
    }
}
