/// The ABI's length limits on a request's strings (docs/driver-abi.md §7), in characters: a
/// request that breaks one is refused `invalid`, naming the field and quoting at most a short
/// prefix — never echoing the value, which may be megabytes long.
public enum RequestLimits {
    static let tagKey = 128, tagValue = 256, instanceID = 256, providerType = 128, image = 1024
    static let initScript = 16_384, sshPublicKey = 8_192, idempotencyToken = 64

    /// Checks the fields any operation's request may carry.
    public static func check(_ request: JSONValue) throws(AzureError) {
        for (key, value) in request["tags"].object ?? [:] {
            guard !key.isEmpty else { throw .invalid("tags: an empty key") }
            try check(key, tagKey, "tags key")
            try check(value.string, tagValue, "tags.\(key.prefix(16))")
        }
        for id in request["ids"].array { try check(id.string, instanceID, "ids[]") }
        try check(request["instance_type"]["provider_type"].string, providerType, "instance_type.provider_type")
        try check(request["provider_type"].string, providerType, "provider_type")
        try check(request["image"].string, image, "image")
        try check(request["init_script"].string, initScript, "init_script")
        try check(request["ssh_public_key"].string, sshPublicKey, "ssh_public_key")
        try check(request["idempotency_token"].string, idempotencyToken, "idempotency_token")
    }

    static func check(_ value: String?, _ limit: Int, _ field: String) throws(AzureError) {
        guard let value, value.count > limit else { return }
        throw .invalid("\(field): longer than \(limit) characters (\"\(value.prefix(16))…\")")
    }
}
