import DriverSupport
import Foundation

/// Application Default Credentials, in the order Google's libraries use: `credentials_file`
/// (config), `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's well-known file, then the metadata
/// server. Files are read at open (a bad file is `invalid` then); tokens on first use.
public enum Credentials {
    public static let scope = "https://www.googleapis.com/auth/compute"

    public struct Found: Sendable {
        public var source: any TokenSource
        /// The project a key file names, used when the config names none.
        public var projectID: String?
    }

    public static func find(config: GCEConfig, environment: [String: String], transport: any HTTPTransport) throws(DriverError) -> Found {
        var candidates: [(path: String, origin: String, mustExist: Bool)] = []
        if let file = config.credentialsFile { candidates.append((file, "config.credentials_file", true)) }
        if let file = environment["GOOGLE_APPLICATION_CREDENTIALS"], !file.isEmpty {
            candidates.append((file, "GOOGLE_APPLICATION_CREDENTIALS", true))
        }
        if let dir = environment["CLOUDSDK_CONFIG"] ?? environment["HOME"].map({ $0 + "/.config/gcloud" }) {
            candidates.append((dir + "/application_default_credentials.json", "gcloud's application default credentials", false))
        }
        for c in candidates {
            guard let data = FileManager.default.contents(atPath: c.path) else {
                if c.mustExist { throw .invalid("\(c.origin): cannot read \(c.path)") }
                continue
            }
            return try fromFile(Array(data), file: "\(c.origin) (\(c.path))", tokenURI: config.tokenURI, transport: transport)
        }
        guard config.useMetadataServer else {
            throw .invalid("config: no credentials (set credentials_file, or use_metadata_server true on GCE)")
        }
        let host = config.metadataHost ?? environment["GCE_METADATA_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "metadata.google.internal"
        return Found(source: MetadataTokenSource(host: host, transport: transport), projectID: nil)
    }

    static func fromFile(_ bytes: [UInt8], file: String, tokenURI: String?, transport: any HTTPTransport) throws(DriverError) -> Found {
        switch JSONValue.parse(bytes)?["type"].string {
        case "service_account":
            var key = try ServiceAccountKey(json: bytes, file: file)
            if let tokenURI { key.tokenURI = tokenURI }
            _ = try key.assertion(scope: scope, now: 0)  // the private key must be usable now, not at the first create
            return Found(source: ServiceAccountTokenSource(key: key, scope: scope, transport: transport), projectID: key.projectID)
        case "authorized_user":
            return Found(source: try AuthorizedUserTokenSource(json: bytes, file: file, transport: transport), projectID: nil)
        case let other:
            throw .invalid("\(file): credentials of type \(other.map { "\"\($0)\"" } ?? "(none)") are not supported (service_account or authorized_user)")
        }
    }
}
