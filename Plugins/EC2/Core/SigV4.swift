#if canImport(Glibc)
import DriverSupport
import Glibc
#endif

/// AWS Signature Version 4 for header-signed requests: the canonical request, the string to
/// sign, the derived key and the Authorization header. Checked against AWS's published test
/// suite vectors and, live, against moto's signature checking.
///
///     let signer = SigV4Signer(service: "ec2", region: "us-east-1")
///     let headers = signer.sign(method: "POST", host: "ec2.us-east-1.amazonaws.com", path: "/",
///                               query: [], headers: [("content-type", form)], body: body,
///                               credentials: creds, time: now)
///     // headers: x-amz-date, x-amz-security-token (with a session), authorization
public struct SigV4Signer: Sendable {
    public var service: String
    public var region: String

    public init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    /// The headers to add to the request: `x-amz-date`, `x-amz-security-token` when the
    /// credentials carry a session, and `authorization`. `headers` are the other headers the
    /// request sends and that should be signed (the host is always signed).
    public func sign(method: String, host: String, path: String, query: [(String, String)],
                     headers: [(String, String)], body: [UInt8], credentials: Credentials,
                     time: Int) -> [(String, String)] {
        let amzDate = Self.amzDate(time)
        var added = [("x-amz-date", amzDate)]
        if let token = credentials.sessionToken, !token.isEmpty { added.append(("x-amz-security-token", token)) }
        let parts = canonicalRequest(method: method, host: host, path: path, query: query,
                                     headers: headers + added, body: body)
        let scope = "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(SHA256.hex(Array(parts.request.utf8)))"
        let signature = hexString(SHA256.hmac(key: signingKey(secret: credentials.secretAccessKey, date: String(amzDate.prefix(8))),
                                              message: Array(toSign.utf8)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(parts.signedHeaders), Signature=\(signature)"
        return added + [("authorization", authorization)]
    }

    /// The canonical request and the signed-header list (exposed for the test vectors).
    public func canonicalRequest(method: String, host: String, path: String, query: [(String, String)],
                                 headers: [(String, String)], body: [UInt8]) -> (request: String, signedHeaders: String) {
        var byName: [String: [String]] = ["host": [host]]
        for (name, value) in headers where name.lowercased() != "host" {
            byName[name.lowercased(), default: []].append(Self.trim(value))
        }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined()
        let canonicalQuery = query.map { (FormEncoding.awsEscape($0.0), FormEncoding.awsEscape($0.1)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let canonicalPath = path.isEmpty ? "/" : path.split(separator: "/", omittingEmptySubsequences: false)
            .map { FormEncoding.awsEscape(String($0)) }.joined(separator: "/")
        let signed = names.joined(separator: ";")
        let request = [method, canonicalPath, canonicalQuery, canonicalHeaders, signed, SHA256.hex(body)].joined(separator: "\n")
        return (request, signed)
    }

    func signingKey(secret: String, date: String) -> [UInt8] {
        var key = SHA256.hmac(key: Array("AWS4\(secret)".utf8), message: Array(date.utf8))
        for part in [region, service, "aws4_request"] { key = SHA256.hmac(key: key, message: Array(part.utf8)) }
        return key
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC, from seconds since the epoch.
    public static func amzDate(_ time: Int) -> String {
        var t = time_t(time)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// Header values are trimmed and inner runs of spaces collapse to one.
    private static func trim(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}
