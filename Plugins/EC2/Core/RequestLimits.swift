import PluginABI

/// The ABI's limits on request strings (CDD_MAX_* in the header), in characters as the
/// schema counts them. A refusal names the field and never quotes the value back.
enum RequestLimits {
    static func check(_ value: String?, _ field: String, _ range: ClosedRange<Int32>) throws(EC2Error) {
        guard let value else { return }
        let length = value.unicodeScalars.count
        guard range.contains(Int32(clamping: length)) else {
            throw .invalid("\(field): \(length) characters, must be \(range.lowerBound) to \(range.upperBound)")
        }
    }

    static func check(tags: [String: String]) throws(EC2Error) {
        for (key, value) in tags {
            try check(key, "tags key", 1...CDD_MAX_TAG_KEY)
            try check(value, "tags value", 0...CDD_MAX_TAG_VALUE)
        }
    }

    static func check(ids: [String], max: Int32) throws(EC2Error) {
        guard (1...Int(max)).contains(ids.count) else { throw .invalid("ids: 1 to \(max) instance ids, got \(ids.count)") }
        for id in ids { try check(id, "ids", 1...CDD_MAX_INSTANCE_ID) }
    }
}

extension CreateRequest {
    func checkLimits() throws(EC2Error) {
        try RequestLimits.check(instanceType.providerType, "instance_type.provider_type", 1...CDD_MAX_PROVIDER_TYPE)
        try RequestLimits.check(instanceType.name, "instance_type.name", 1...CDD_MAX_PROVIDER_TYPE)
        try RequestLimits.check(image, "image", 0...CDD_MAX_IMAGE)
        try RequestLimits.check(initScript, "init_script", 0...CDD_MAX_INIT_SCRIPT)
        try RequestLimits.check(sshPublicKey, "ssh_public_key", 0...CDD_MAX_SSH_PUBLIC_KEY)
        try RequestLimits.check(idempotencyToken, "idempotency_token", 1...CDD_MAX_IDEMPOTENCY_TOKEN)
        try RequestLimits.check(tags: tags)
    }
}
