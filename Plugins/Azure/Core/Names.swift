import CCurl
import DriverSupport
import Foundation

/// Resource names. A VM's name derives from the instance set and the create request's
/// idempotency token, so a PUT repeated for the same intent (after a lost answer, a timeout or
/// a host restart) addresses the same VM instead of making a second one. Its NIC, public IP
/// and disks are named after it, so whatever is left of a failed create is found by name.
///
///     Names.vm(setID: "prod-1", token: "c-7f3a9d", index: 0)   // "cdd-1a2b3c4d-0e9f8a7b6c5d-0"
public enum Names {
    /// `cdd-<8 hex of the set id>-`: every resource of this set starts with it.
    public static func setPrefix(_ setID: String) -> String { "cdd-" + sha256Hex(setID).prefix(8) + "-" }

    public static func vm(setID: String, token: String, index: Int) -> String {
        setPrefix(setID) + sha256Hex(setID + "\u{0}" + token).prefix(12) + "-\(index)"
    }

    public static func nic(_ vm: String) -> String { vm + "-nic" }
    public static func publicIP(_ vm: String) -> String { vm + "-ip" }
    public static func osDisk(_ vm: String) -> String { vm + "-os" }
    public static func dataDisk(_ vm: String) -> String { vm + "-scratch" }

    /// What an ARM resource name may be here: what Azure allows for VMs, and nothing that
    /// could change the URL it goes into.
    public static func isResourceName(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count) && s.first != "." && s.first != "-"
            && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    /// A config value that goes into ARM paths.
    static func check(_ value: String, key: String, extra: String = "") throws(DriverError) {
        guard value.count <= 90, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0) || extra.contains($0)) }) else {
            throw .invalid("config.\(key): \"\(value)\" is not a valid Azure \(key == "resource_group" ? "resource group name" : "id")")
        }
    }

    public static func sha256Hex(_ text: String) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { SHA256($0.baseAddress, $0.count, &digest) }
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
