import CCurl
import DriverSupport

/// SHA-256 and HMAC-SHA-256, the two primitives SigV4 needs, from OpenSSL's libcrypto (which
/// libcurl already loads): a thin wrapper, no crypto of our own. The tests check it against
/// NIST's example vectors and RFC 4231.
///
///     SHA256.hex(Array("abc".utf8))           // "ba7816bf…"
///     SHA256.hmac(key: key, message: bytes)   // 32 bytes
public enum SHA256 {
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        message.withUnsafeBufferPointer { _ = CCurl.SHA256($0.baseAddress, $0.count, &digest) }
        return digest
    }

    public static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // A NULL key means "reuse the previous key" to OpenSSL: an empty key gets a real pointer.
        let keyBytes = key.isEmpty ? [0] : key
        let done = keyBytes.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                CCurl.HMAC(EVP_sha256(), k.baseAddress, Int32(key.count), m.baseAddress, m.count, &digest, &length)
            }
        }
        // Fails only if libcrypto cannot allocate or lacks SHA-256: no signature can be made then.
        guard done != nil, length == 32 else { fatalError("libcrypto HMAC-SHA-256 failed") }
        return Array(digest.prefix(Int(length)))
    }

    public static func hex(_ message: [UInt8]) -> String { hexString(hash(message)) }
}

/// Lowercase hex, as SigV4 writes hashes and signatures.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}
