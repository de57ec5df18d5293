import Foundation

/// How a worker proves it is the instance the cloud made, before its host key is pinned:
/// the host key the driver reported, or else the instance secret the init script wrote,
/// which must equal the instance's secret tag. A key that changes later is verified again.
enum HostIdentity {
    /// The key blob of an OpenSSH public key line ("ssh-ed25519 AAAA… comment").
    static func keyBlob(ofPublicKeyLine line: String) -> [UInt8]? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, let data = Data(base64Encoded: String(fields[1])) else { return nil }
        return [UInt8](data)
    }

    /// The SHA-256 fingerprint OpenSSH prints ("SHA256:…"), for log lines.
    static func fingerprint(_ blob: [UInt8]) -> String {
        "SHA256:" + Data(SHA256.hash(blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// Compares without an early exit, so timing tells nothing about the secret.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
