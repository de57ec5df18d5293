import Glibc

/// Strings the host passes in, read with a bound: an over-long or non-UTF-8 string is
/// refused as `invalid` before any of it is parsed.
public enum InputText {
    /// Requests and configs: 1 MiB (a create of 1,000 instances is a few KiB).
    public static let requestLimit = 1 << 20
    public static let setIDLimit = 64

    public static func read(_ pointer: UnsafePointer<CChar>?, limit: Int, what: String) throws(GCEError) -> String {
        guard let pointer else { throw .invalid("\(what): missing (NULL)") }
        let length = strnlen(pointer, limit + 1)
        guard length <= limit else { throw .invalid("\(what): longer than \(limit) bytes") }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalid("\(what): not valid UTF-8") }
        return text
    }

    /// `[A-Za-z0-9._-]{1,64}`.
    public static func isSetID(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= setIDLimit && s.utf8.allSatisfy {
            ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 95 || $0 == 45
        }
    }
}
