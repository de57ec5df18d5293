/// The settings every Swift driver's config has, under the same keys and with the same ranges:
/// timeouts, TLS trust, paging, throttling's fallback hint, and what shapes the catalogue.
public struct CommonSettings: Sendable, Equatable {
    /// Limit the catalogue to these types (empty: every type the cloud offers there).
    public var instanceTypes: [String] = []
    /// On-demand prices per hour by provider type, where the cloud's API does not publish them.
    public var prices: [String: Double] = [:]
    /// Quota group by provider type, over the driver's own reckoning.
    public var quotaGroups: [String: String] = [:]
    public var requestTimeoutMs = 30_000
    public var connectTimeoutMs = 10_000
    /// Seconds a fetched catalogue is reused.
    public var catalogueTTL = 3_600
    /// PEM file of CA certificates, instead of the system's.
    public var caBundle: String?
    /// Retry hint for throttling when the cloud gives no usable `Retry-After`.
    public var throttleRetryMs: Int
    /// Pages one list may take (`Paging`).
    public var maxPages: Int

    public static let keys: Set<String> = ["instance_types", "prices", "quota_groups", "request_timeout", "connect_timeout",
                                           "catalogue_ttl", "ca_bundle", "throttle_retry_ms", "max_pages"]

    public init(throttleRetryMs: Int, maxPages: Int) {
        self.throttleRetryMs = throttleRetryMs
        self.maxPages = maxPages
    }

    /// `defaults`, with what `r` sets of these keys.
    public init(_ r: ConfigReader, defaults: CommonSettings) throws(DriverError) {
        self = defaults
        instanceTypes = try r.strings("instance_types") ?? []
        prices = try r.prices("prices") ?? [:]
        quotaGroups = try r.map("quota_groups") { $0.string.flatMap { $0.isEmpty ? nil : $0 } } ?? [:]
        requestTimeoutMs = (try r.int("request_timeout", 1...600)).map { $0 * 1000 } ?? requestTimeoutMs
        connectTimeoutMs = (try r.int("connect_timeout", 1...120)).map { $0 * 1000 } ?? connectTimeoutMs
        catalogueTTL = try r.int("catalogue_ttl", 0...86_400) ?? catalogueTTL
        caBundle = try r.string("ca_bundle")
        throttleRetryMs = try r.int("throttle_retry_ms", 0...600_000) ?? throttleRetryMs
        maxPages = try r.int("max_pages", 1...10_000) ?? maxPages
    }
}

extension CurlTransport {
    /// The transport an instance set opens: its timeouts and CA bundle, `no_proxy` from its environment.
    public convenience init(_ settings: CommonSettings, environment: [String: String]) {
        self.init(connectTimeoutMs: settings.connectTimeoutMs, caBundle: settings.caBundle,
                  noProxy: environment["no_proxy"] ?? environment["NO_PROXY"])
    }
}
