import PluginABI

/// The ABI's limits on request strings (CDD_MAX_* in the header), in characters as the
/// schema counts them. A refusal names the field and never quotes the value back.
enum RequestLimits {
    static func check(_ value: String?, _ field: String, _ range: ClosedRange<Int32>) throws(SimError) {
        guard let value else { return }
        let length = value.unicodeScalars.count
        guard range.contains(Int32(clamping: length)) else {
            throw .invalid("\(field): \(length) characters, must be \(range.lowerBound) to \(range.upperBound)")
        }
    }

    static func check(tags: [String: String], _ field: String = "tags") throws(SimError) {
        for (key, value) in tags {
            try check(key, "\(field) key", 1...CDD_MAX_TAG_KEY)
            try check(value, "\(field) value", 0...CDD_MAX_TAG_VALUE)
        }
    }

    static func check(ids: [String], max: Int32) throws(SimError) {
        guard (1...Int(max)).contains(ids.count) else { throw .invalid("ids: 1 to \(max) instance ids, got \(ids.count)") }
        for id in ids { try check(id, "ids", 1...CDD_MAX_INSTANCE_ID) }
    }
}
