import Glibc

/// Strings the host passes in, read with a bound: an over-long or non-UTF-8 string is
/// refused as `invalid` before any of it is parsed.
public enum InputText {
    /// Requests and configs: 32 MiB, room for the largest legal request (a destroy of 100,000
    /// ids of 256 characters); each field's own limit is checked after parsing, naming it.
    public static let requestLimit = 32 << 20
    public static let setIDLimit = 64

    public static func read(_ pointer: UnsafePointer<CChar>?, limit: Int, what: String) throws(GCEError) -> String {
        guard let pointer else { throw .invalid("\(what): missing (NULL)") }
        let length = strnlen(pointer, limit + 1)
        guard length <= limit else { throw .invalid("\(what): longer than \(limit) bytes") }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalid("\(what): not valid UTF-8") }
        return text
    }

    /// `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`: always one safe name, never `.`, `..` or hidden.
    public static func isSetID(_ s: String) -> Bool {
        guard let first = s.utf8.first, isAlphanumeric(first), s.utf8.count <= setIDLimit else { return false }
        return s.utf8.allSatisfy { isAlphanumeric($0) || $0 == 46 || $0 == 95 || $0 == 45 }
    }

    static func isAlphanumeric(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }

    /// The wire's length limits, in characters (docs/driver-abi.md): a request that breaks one is
    /// refused naming the field and quoting at most a short prefix.
    public enum Limit {
        public static let tagKey = 128, tagValue = 256, instanceID = 256, providerType = 128, image = 1024
        public static let initScript = 16_384, sshPublicKey = 8_192, idempotencyToken = 64
        public static let destroyIDs = 100_000, setTagsIDs = 1000
    }

    /// Refuses `value` longer than `limit` characters, naming `field`.
    public static func check(_ value: String?, _ limit: Int, _ field: String) throws(GCEError) {
        guard let value, value.count > limit else { return }
        throw .invalid("\(field): longer than \(limit) characters (\"\(value.prefix(16))…\")")
    }

    public static func check(tags: [String: String], field: String) throws(GCEError) {
        for (k, v) in tags {
            guard !k.isEmpty else { throw .invalid("\(field): an empty key") }
            try check(k, Limit.tagKey, "\(field) key")
            try check(v, Limit.tagValue, "\(field).\(k.prefix(16))")
        }
    }
}
