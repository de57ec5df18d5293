import DriverSupport
import Foundation

/// An instance set's configuration (the operator's JSON object). Every key is listed in
/// docs/drivers/azure.md; an unknown or malformed key is refused with its name.
///
///     let config = try AzureConfig.parse(#"{"subscription_id": "…", "resource_group": "rg", "location": "westeurope",
///                                          "subnet_id": "/subscriptions/…/subnets/workers"}"#, environment: env)
public struct AzureConfig: Sendable {
    public var subscriptionID: String
    public var resourceGroup: String
    public var location: String
    public var subnetID: String
    public var auth: TokenSource.Settings
    public var armEndpoint = "https://management.azure.com"
    public var image: ImageReference?
    public var networkSecurityGroupID: String?
    public var usePublicIP = false
    public var adminUsername = "azureuser"
    public var osDiskType = "StandardSSD_LRS"
    public var osDiskSizeGB: Int?
    public var dataDiskType = "StandardSSD_LRS"
    public var zone: String?
    public var spotMaxPrice = SpotMaxPrice()
    public var spotPrices: [String: Double] = [:]
    public var createConcurrency = 4
    public var createWaitSeconds = 90
    public var destroyWaitSeconds = 60
    public var pollIntervalMs = 2_000
    public var maxPolls = 600
    public var gcAfterSeconds = 1_200
    public var gcIntervalSeconds = 300
    /// The keys every driver has: catalogue shaping, timeouts, CA bundle, paging, throttling hint.
    public var common = CommonSettings(throttleRetryMs: 10_000, maxPages: 100)

    /// Its own keys, and those every driver has (`CommonSettings`).
    static let keys = CommonSettings.keys.union([
        "subscription_id", "resource_group", "location", "subnet_id", "tenant_id", "client_id", "client_secret",
        "client_certificate", "managed_identity_client_id", "authority_host", "imds_endpoint", "arm_endpoint", "arm_audience",
        "image", "network_security_group_id", "use_public_ip", "admin_username", "os_disk_type", "os_disk_size_gb",
        "data_disk_type", "zone", "spot_max_price", "spot_prices", "create_concurrency", "create_wait", "destroy_wait",
        "poll_interval_ms", "gc_after", "gc_interval",
    ])

    public static func parse(_ text: String, environment: [String: String]) throws(DriverError) -> AzureConfig {
        let r = try ConfigReader(parsing: text, keys: keys, docs: "docs/drivers/azure.md")
        func required(_ key: String, env: String) throws(DriverError) -> String {
            guard let v = try r.string(key) ?? environment[env], !v.isEmpty else {
                throw .invalid("config.\(key): required (or \(env) in the environment)")
            }
            return v
        }
        let subscription = try required("subscription_id", env: "AZURE_SUBSCRIPTION_ID")
        let group = try r.string("resource_group") ?? ""
        let location = try r.string("location") ?? ""
        let subnet = try r.string("subnet_id") ?? ""
        for (key, value) in [("resource_group", group), ("location", location), ("subnet_id", subnet)] where value.isEmpty {
            throw .invalid("config.\(key): required")
        }
        try Names.check(subscription, key: "subscription_id")
        try Names.check(group, key: "resource_group", extra: "()")
        guard location.allSatisfy({ $0.isLetter || $0.isNumber }) else { throw .invalid("config.location: malformed \"\(location)\"") }
        guard subnet.lowercased().contains("/providers/microsoft.network/virtualnetworks/"), subnet.contains("/subnets/") else {
            throw .invalid("config.subnet_id: expected a subnet resource id (/subscriptions/…/virtualNetworks/VNET/subnets/SUBNET)")
        }

        var auth = TokenSource.Settings()
        auth.tenantID = try r.string("tenant_id") ?? environment["AZURE_TENANT_ID"]
        auth.clientID = try r.string("client_id") ?? environment["AZURE_CLIENT_ID"]
        auth.clientSecret = try r.string("client_secret") ?? environment["AZURE_CLIENT_SECRET"]
        auth.managedIdentityClientID = try r.string("managed_identity_client_id")
        auth.authorityHost = try r.url("authority_host") ?? environment["AZURE_AUTHORITY_HOST"] ?? auth.authorityHost
        auth.imdsEndpoint = try r.url("imds_endpoint") ?? auth.imdsEndpoint
        auth.audience = try r.url("arm_audience") ?? auth.audience
        auth.clientCertificatePath = try r.string("client_certificate") ?? environment["AZURE_CLIENT_CERTIFICATE_PATH"]
        if let path = auth.clientCertificatePath {
            guard auth.clientSecret == nil else { throw .invalid("config.client_certificate: give client_secret or client_certificate, not both") }
            guard path.hasPrefix("/"), FileManager.default.isReadableFile(atPath: path) else {
                throw .invalid("config.client_certificate: \(path) is not a readable file (an absolute path to a PEM with key and certificate)")
            }
        }
        for (key, value) in [("client_secret", auth.clientSecret), ("client_certificate", auth.clientCertificatePath)] where value != nil {
            guard auth.tenantID != nil, auth.clientID != nil else { throw .invalid("config.\(key): needs tenant_id and client_id") }
        }

        var c = AzureConfig(subscriptionID: subscription, resourceGroup: group, location: location.lowercased(), subnetID: subnet, auth: auth)
        if let arm = try r.url("arm_endpoint") { c.armEndpoint = arm.hasSuffix("/") ? String(arm.dropLast()) : arm }
        if let image = try r.string("image") {
            guard let parsed = ImageReference(parsing: image) else {
                throw .invalid("config.image: expected an image or gallery image version resource id, or PUBLISHER:OFFER:SKU:VERSION")
            }
            c.image = parsed
        }
        c.networkSecurityGroupID = try r.string("network_security_group_id")
        c.usePublicIP = try r.bool("use_public_ip") ?? false
        c.adminUsername = try r.string("admin_username") ?? c.adminUsername
        guard c.adminUsername.count <= 32, c.adminUsername.first?.isLetter == true,
              c.adminUsername.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
              !["admin", "root", "administrator", "guest"].contains(c.adminUsername.lowercased()) else {
            throw .invalid("config.admin_username: \"\(c.adminUsername)\" is not a Linux user name Azure accepts")
        }
        c.osDiskType = try r.string("os_disk_type") ?? c.osDiskType
        c.osDiskSizeGB = try r.int("os_disk_size_gb", 1...4095)
        c.dataDiskType = try r.string("data_disk_type") ?? c.dataDiskType
        c.zone = try r.string("zone")
        if let raw = r.object["spot_max_price"] {
            guard let cap = SpotMaxPrice(parsing: raw) else {
                throw .invalid("config.spot_max_price: expected -1 (up to the on-demand price) or a price per hour above 0, or an object of them by VM size")
            }
            c.spotMaxPrice = cap
        }
        c.spotPrices = try r.map("spot_prices") { if case .number(let n) = $0, n >= 0 { n } else { nil } } ?? [:]
        c.createConcurrency = try r.int("create_concurrency", 1...20) ?? c.createConcurrency
        c.createWaitSeconds = try r.int("create_wait", 0...600) ?? c.createWaitSeconds
        c.destroyWaitSeconds = try r.int("destroy_wait", 0...600) ?? c.destroyWaitSeconds
        c.pollIntervalMs = try r.int("poll_interval_ms", 0...60_000) ?? c.pollIntervalMs
        c.gcAfterSeconds = try r.int("gc_after", 0...604_800) ?? c.gcAfterSeconds
        c.gcIntervalSeconds = try r.int("gc_interval", 0...86_400) ?? c.gcIntervalSeconds
        c.common = try CommonSettings(r, defaults: c.common)
        c.auth.timeoutMs = c.common.requestTimeoutMs
        return c
    }
}

/// Spot `billingProfile.maxPrice`: -1 (Azure's "up to the on-demand price", the default), one
/// cap for every size, or caps by size (sizes not named get -1).
public struct SpotMaxPrice: Sendable, Equatable {
    public var all: Double = -1
    public var bySize: [String: Double] = [:]

    public init() {}

    init?(parsing raw: JSONValue) {
        func valid(_ v: JSONValue) -> Double? {
            guard case .number(let n) = v, n == -1 || n > 0 else { return nil }
            return n
        }
        switch raw {
        case .number: guard let n = valid(raw) else { return nil }; all = n
        case .object(let o):
            for (k, v) in o { guard let n = valid(v) else { return nil }; bySize[k] = n }
        default: return nil
        }
    }

    public func cap(for size: String) -> Double { bySize[size] ?? all }
}

/// The image a VM boots: a managed image or a gallery image version (both by resource id),
/// or a marketplace image (`PUBLISHER:OFFER:SKU:VERSION`, as `az vm create --image` takes it).
public enum ImageReference: Sendable, Equatable {
    case id(String)
    case marketplace(publisher: String, offer: String, sku: String, version: String)

    public init?(parsing text: String) {
        if text.hasPrefix("/subscriptions/") || text.hasPrefix("/Subscriptions/") {
            let lower = text.lowercased()
            guard lower.contains("/providers/microsoft.compute/images/") || lower.contains("/providers/microsoft.compute/galleries/") else { return nil }
            self = .id(text)
            return
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && !$0.contains("/") }) else { return nil }
        self = .marketplace(publisher: parts[0], offer: parts[1], sku: parts[2], version: parts[3])
    }

    /// `storageProfile.imageReference`.
    var json: JSONValue {
        switch self {
        case .id(let id): ["id": .string(id)]
        case .marketplace(let p, let o, let s, let v): ["publisher": .string(p), "offer": .string(o), "sku": .string(s), "version": .string(v)]
        }
    }
}
