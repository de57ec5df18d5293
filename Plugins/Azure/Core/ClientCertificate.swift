import CAzureCrypto
import DriverSupport
import Foundation

/// The certificate credential of a service principal: a JWT client assertion signed (RS256)
/// with the certificate's private key, sent to the token endpoint instead of a secret. The PEM
/// file holds the private key and the certificate (what `az ad sp create-for-rbac
/// --create-cert` writes); the header names the certificate by its SHA-1 thumbprint (`x5t`),
/// which is how Entra ID finds the public key registered for the application.
///
///     let jwt = try ClientCertificate.assertion(pemPath: "/etc/cloud-dispatch/sp.pem", clientID: id,
///                                               audience: tokenURL, now: now)
public enum ClientCertificate {
    /// Assertions are valid this long (Entra ID accepts up to ten minutes).
    static let lifetimeSeconds = 600

    public static func assertion(pemPath: String, clientID: String, audience: String, now: Int,
                                 jti: String = UUID().uuidString) throws(DriverError) -> String {
        guard let pem = FileManager.default.contents(atPath: pemPath), !pem.isEmpty else {
            throw DriverError(.auth, "client_certificate \(pemPath): cannot read it", code: "NoCredentials")
        }
        let bytes = [UInt8](pem)
        guard let key = readKey(bytes) else {
            throw DriverError(.auth, "client_certificate \(pemPath): no unencrypted private key in it", code: "NoCredentials")
        }
        defer { EVP_PKEY_free(key) }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            throw DriverError(.auth, "client_certificate \(pemPath): the key is not RSA (Entra ID signs and checks RS256)", code: "NoCredentials")
        }
        guard let der = certificateDER(bytes) else {
            throw DriverError(.auth, "client_certificate \(pemPath): no certificate in it", code: "NoCredentials")
        }
        var sha1 = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        _ = der.withUnsafeBufferPointer { SHA1($0.baseAddress, $0.count, &sha1) }
        let header: JSONValue = ["alg": "RS256", "typ": "JWT", "x5t": .string(base64URL(sha1))]
        let claims: JSONValue = ["aud": .string(audience), "iss": .string(clientID), "sub": .string(clientID), "jti": .string(jti),
                                 "nbf": .number(Double(now)), "iat": .number(Double(now)), "exp": .number(Double(now + lifetimeSeconds))]
        let input = base64URL([UInt8](header.data)) + "." + base64URL([UInt8](claims.data))
        guard let signature = sign(Array(input.utf8), with: key) else {
            throw DriverError(.internal, "client_certificate \(pemPath): signing the assertion failed")
        }
        return input + "." + base64URL(signature)
    }

    private static func readKey(_ pem: [UInt8]) -> OpaquePointer? {
        pem.withUnsafeBufferPointer { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
    }

    private static func certificateDER(_ pem: [UInt8]) -> [UInt8]? {
        pem.withUnsafeBufferPointer { buffer -> [UInt8]? in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            guard let cert = PEM_read_bio_X509(bio, nil, nil, nil) else { return nil }
            defer { X509_free(cert) }
            let length = i2d_X509(cert, nil)
            guard length > 0 else { return nil }
            var der = [UInt8](repeating: 0, count: Int(length))
            let written = der.withUnsafeMutableBufferPointer { out -> Int32 in
                var cursor: UnsafeMutablePointer<UInt8>? = out.baseAddress
                return i2d_X509(cert, &cursor)
            }
            return written == length ? der : nil
        }
    }

    private static func sign(_ input: [UInt8], with key: OpaquePointer) -> [UInt8]? {
        guard let ctx = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, key) == 1 else { return nil }
        var length = 0
        guard EVP_DigestSign(ctx, nil, &length, input, input.count) == 1 else { return nil }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(ctx, &signature, &length, input, input.count) == 1 else { return nil }
        return Array(signature.prefix(length))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
