import CCurl
import DriverSupport
import Foundation

/// SHA-256 and RS256 signatures from OpenSSL's libcrypto (libcurl's TLS backend, already
/// loaded): thin wrappers, no crypto of our own.
public enum Crypto {
    public static func sha256(_ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        message.withUnsafeBufferPointer { _ = CCurl.SHA256($0.baseAddress, $0.count, &digest) }
        return digest
    }

    public static func sha256Hex(_ text: String) -> String {
        sha256(Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`, with the private key of a PEM block
    /// (`BEGIN PRIVATE KEY`, PKCS#8, as service-account keys have it; or `BEGIN RSA PRIVATE KEY`).
    public static func rs256(pem: String, message: [UInt8]) throws(DriverError) -> [UInt8] {
        guard let der = derBody(pem: pem) else { throw .invalid("private_key: not a PEM private key") }
        let key: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_AutoPrivateKey(nil, &cursor, buffer.count)
        }
        guard let key else { throw .invalid("private_key: OpenSSL cannot read it as a private key") }
        defer { EVP_PKEY_free(key) }
        guard let ctx = EVP_MD_CTX_new() else { throw DriverError(.internal, "EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, key) == 1 else { throw .invalid("private_key: cannot sign with it (not RSA?)") }
        var length = 0
        guard message.withUnsafeBufferPointer({ EVP_DigestSign(ctx, nil, &length, $0.baseAddress, $0.count) }) == 1 else {
            throw DriverError(.internal, "EVP_DigestSign (size) failed")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard message.withUnsafeBufferPointer({ EVP_DigestSign(ctx, &signature, &length, $0.baseAddress, $0.count) }) == 1 else {
            throw DriverError(.internal, "EVP_DigestSign failed")
        }
        return Array(signature.prefix(length))
    }

    /// The DER bytes between the first `-----BEGIN …-----` and its `-----END …-----`.
    static func derBody(pem: String) -> [UInt8]? {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("PRIVATE KEY-----") }),
              let end = lines[begin...].firstIndex(where: { $0.hasPrefix("-----END ") }) else { return nil }
        return Data(base64Encoded: lines[(begin + 1)..<end].joined()).map(Array.init)
    }

    /// base64url without padding (RFC 7515 §2), as JWTs use it.
    public static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
