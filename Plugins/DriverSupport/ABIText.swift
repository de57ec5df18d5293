import Glibc
import PluginABI

/// Text the host hands the driver through the C ABI, read with a bound and checked: a string
/// longer than its limit, or not UTF-8, is refused as `invalid` before anything else reads it.
public enum ABIText {
    public static let setIDLimit = Int(CDD_MAX_SET_ID)
    public static let configLimit = 1 << 20
    /// Room for the largest legal request (a destroy of 100,000 ids of 256 characters); each
    /// field's own limit is checked after parsing (`RequestLimits`), naming it.
    public static let requestLimit = 64 << 20
    public static let extensionIDLimit = 128

    public static func read(_ pointer: UnsafePointer<CChar>?, limit: Int, what: String) throws(DriverError) -> String {
        guard let pointer else { throw .invalid("\(what): missing (NULL)") }
        let length = strnlen(pointer, limit + 1)
        guard length <= limit else { throw .invalid("\(what): longer than \(limit) bytes") }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalid("\(what): not UTF-8") }
        return text
    }

    /// The host's instance-set id, which must be a set id (`isSetID`).
    public static func setID(_ pointer: UnsafePointer<CChar>?) throws(DriverError) -> String {
        let id = try read(pointer, limit: setIDLimit, what: "set id")
        guard isSetID(id) else { throw .invalid("set id: \"\(id.prefix(16))\" is not [A-Za-z0-9][A-Za-z0-9._-]{0,63}") }
        return id
    }

    /// `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`: always one safe name, never `.`, `..` or hidden.
    public static func isSetID(_ s: String) -> Bool {
        guard let first = s.utf8.first, isAlphanumeric(first), s.utf8.count <= setIDLimit else { return false }
        return s.utf8.allSatisfy(isNameByte)
    }

    /// `[A-Za-z0-9._-]`: the bytes of set ids and idempotency tokens.
    public static func isNameByte(_ c: UInt8) -> Bool { isAlphanumeric(c) || c == 46 || c == 95 || c == 45 }

    static func isAlphanumeric(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
}
