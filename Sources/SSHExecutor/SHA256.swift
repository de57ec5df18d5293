import CSSH2

/// SHA-256 through OpenSSL's libcrypto (already loaded as libssh2's backend).
enum SHA256 {
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        message.withUnsafeBufferPointer { _ = CSSH2.SHA256($0.baseAddress, $0.count, &digest) }
        return digest
    }

    static func hex(_ message: [UInt8]) -> String {
        hash(message).map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined()
    }
}
