/// Our tags as GCE labels, reversibly. A label key must start with a lowercase letter, and
/// keys and values hold at most 63 of `a-z 0-9 _ -`. So:
/// - `a-z`, `0-9` and `-` stay as they are;
/// - every other byte of the UTF-8 text (capitals, `.`, `_`, `/`, spaces …) becomes `_` and two
///   lowercase hex digits (`.` → `_2e`, `_` → `_5f`, `A` → `_41`);
/// - a key whose encoding does not start with a letter gets the prefix `z__` (`__` never
///   occurs in an encoding, so the prefix cannot be mistaken for text).
/// A tag whose encoded key or value is longer than 63, or beyond the 64th label, cannot be a
/// label: it goes into the instance metadata item `cdd-tags` (a JSON object) instead.
///
///     Labels.encodeValue("m5.large")   // "m5_2elarge"
///     Labels.decode("m5_2elarge")      // "m5.large"
import DriverSupport
public enum Labels {
    public static let maxLength = 63
    public static let maxLabels = 64
    /// Metadata item holding the tags that cannot be labels.
    public static let overflowKey = "cdd-tags"
    /// The driver's own label: which instance set made the instance (16 hex of the set id's
    /// SHA-256). No tag can encode to this key (`__` occurs only in the `z__` prefix), and it
    /// is never reported as a tag.
    public static let setKey = "cdd__set"

    public static func setValue(_ setID: String) -> String { String(Crypto.sha256Hex(setID).prefix(16)) }
    static let keyPrefix = "z__"

    public static func encodeValue(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += "_" + String(byte, radix: 16).leftPadded(to: 2)
            }
        }
        return out
    }

    public static func encodeKey(_ text: String) -> String {
        let body = encodeValue(text)
        guard let first = body.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return keyPrefix + body }
        return body
    }

    /// The text a label key or value encodes, or nil when it is not one of our encodings (a
    /// label someone else set, with a bare `_`): such labels are reported as they are.
    public static func decode(_ label: String) -> String? {
        var text = Substring(label)
        if text.hasPrefix(keyPrefix) { text = text.dropFirst(keyPrefix.count) }
        var bytes: [UInt8] = []
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i < utf8.endIndex {
            let byte = utf8[i]
            if byte == UInt8(ascii: "_") {
                let hexStart = utf8.index(after: i)
                guard let hexEnd = utf8.index(hexStart, offsetBy: 2, limitedBy: utf8.endIndex),
                      let value = UInt8(String(text[hexStart..<hexEnd]), radix: 16),
                      String(text[hexStart..<hexEnd]) == String(value, radix: 16).leftPadded(to: 2) else { return nil }
                bytes.append(value)
                i = hexEnd
            } else {
                bytes.append(byte)
                i = utf8.index(after: i)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Splits tags into labels and the rest (for metadata), deterministically (sorted keys).
    /// `room` is the labels left for tags (one goes to `setKey`).
    public static func split(_ tags: [String: String], room: Int = maxLabels - 1) -> (labels: [String: String], overflow: [String: String]) {
        var labels: [String: String] = [:], overflow: [String: String] = [:]
        for key in tags.keys.sorted() {
            let k = encodeKey(key), v = encodeValue(tags[key]!)
            if k.utf8.count <= maxLength, v.utf8.count <= maxLength, labels.count < room {
                labels[k] = v
            } else {
                overflow[key] = tags[key]!
            }
        }
        return (labels, overflow)
    }

    /// Tags from an instance's labels and its `cdd-tags` metadata item.
    public static func tags(labels: [String: String], overflow: [String: String]) -> [String: String] {
        var tags: [String: String] = [:]
        for (k, v) in labels where k != setKey {
            if let key = decode(k), let value = decode(v) { tags[key] = value } else { tags[k] = v }
        }
        return tags.merging(overflow) { _, o in o }
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
