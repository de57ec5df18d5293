import DriverSupport
import Foundation

/// An instance set's configuration (the operator's JSON object). Every key is listed in
/// docs/drivers/ec2.md; an unknown or malformed key is refused with its name.
///
///     let config = try EC2Config.parse(#"{"region": "eu-west-1", "subnet_ids": ["subnet-1"]}"#,
///                                      environment: ProcessInfo.processInfo.environment)
public struct EC2Config: Sendable {
    public var region: String
    /// Base URL of the EC2 Query API (moto, other partitions, VPC endpoints).
    public var endpoint: String
    public var credentials: CredentialChain.Settings
    public var image: String?
    public var subnetIDs: [String] = []
    public var securityGroupIDs: [String] = []
    public var iamInstanceProfile: String?
    /// Use this existing key pair instead of importing the request's public key.
    public var keyPairName: String?
    public var adminUsername = "admin"
    public var usePublicIP = false
    /// Accept fewer instances than asked for (RunInstances MinCount 1).
    public var partialLaunch = false
    public var ebsVolumeType = "gp3"
    public var spotPrices = true
    public var pageSize = 1000
    public var destroyBatch = 1000
    /// The keys every driver has: catalogue shaping, timeouts, CA bundle, paging, throttling hint.
    public var common = CommonSettings(throttleRetryMs: 2_000, maxPages: 50)
    /// MaxPrice of spot launches; none by default (EC2 then caps at the on-demand price).
    public var spotMaxPrice = SpotMaxPrice()

    /// Its own keys, and those every driver has (`CommonSettings`).
    static let keys = CommonSettings.keys.union([
        "region", "endpoint", "access_key_id", "secret_access_key", "session_token", "profile", "credentials_file",
        "use_instance_role", "imds_endpoint", "image", "subnet_ids", "security_group_ids", "iam_instance_profile",
        "key_pair_name", "admin_username", "use_public_ip", "partial_launch", "ebs_volume_type", "spot_prices", "page_size",
        "destroy_batch", "spot_max_price", "sts_endpoint",
    ])

    public static func parse(_ text: String, environment: [String: String]) throws(DriverError) -> EC2Config {
        let r = try ConfigReader(parsing: text, keys: keys, docs: "docs/drivers/ec2.md")
        guard let region = try r.string("region") ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"],
              !region.isEmpty else {
            throw .invalid("config.region: required (or AWS_REGION in the environment)")
        }
        guard region.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { throw .invalid("config.region: malformed \"\(region)\"") }
        let endpoint = try r.string("endpoint") ?? defaultEndpoint(region: region)
        guard endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://") else {
            throw .invalid("config.endpoint: must be an http(s) URL")
        }
        let id = try r.string("access_key_id"), secret = try r.string("secret_access_key")
        guard (id == nil) == (secret == nil) else { throw .invalid("config: access_key_id and secret_access_key go together") }
        let token = try r.string("session_token")
        if id == nil, token != nil { throw .invalid("config.session_token: needs access_key_id and secret_access_key") }
        let fixed = id.map { Credentials(accessKeyID: $0, secretAccessKey: secret!, sessionToken: token, source: "config") }

        var c = EC2Config(region: region, endpoint: endpoint, credentials: .init(
            staticCredentials: fixed, profile: try r.string("profile"), credentialsFile: try r.string("credentials_file"),
            imdsEndpoint: try r.string("imds_endpoint") ?? "http://169.254.169.254",
            useInstanceRole: try r.bool("use_instance_role") ?? true,
            stsEndpoint: try r.string("sts_endpoint") ?? defaultEndpoint(region: region, service: "sts")))
        c.image = try r.string("image")
        c.subnetIDs = try r.strings("subnet_ids") ?? []
        c.securityGroupIDs = try r.strings("security_group_ids") ?? []
        c.iamInstanceProfile = try r.string("iam_instance_profile")
        c.keyPairName = try r.string("key_pair_name")
        c.adminUsername = try r.string("admin_username") ?? c.adminUsername
        c.usePublicIP = try r.bool("use_public_ip") ?? false
        c.partialLaunch = try r.bool("partial_launch") ?? false
        c.ebsVolumeType = try r.string("ebs_volume_type") ?? c.ebsVolumeType
        c.spotPrices = try r.bool("spot_prices") ?? true
        c.pageSize = try r.int("page_size", 5...1000) ?? c.pageSize
        c.destroyBatch = try r.int("destroy_batch", 1...1000) ?? c.destroyBatch
        c.common = try CommonSettings(r, defaults: c.common)
        if let raw = r.object["spot_max_price"] {
            guard let cap = SpotMaxPrice(parsing: raw) else {
                throw .invalid("config.spot_max_price: expected a price per hour above 0, or an object of them by instance type")
            }
            c.spotMaxPrice = cap
        }
        return c
    }

    /// `https://<service>.<region>.amazonaws.com`, or the China partition's domain.
    public static func defaultEndpoint(region: String, service: String = "ec2") -> String {
        "https://\(service).\(region).amazonaws.com" + (region.hasPrefix("cn-") ? ".cn" : "")
    }
}
