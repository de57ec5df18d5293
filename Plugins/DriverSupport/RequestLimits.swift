import Foundation
import PluginABI

/// The ABI's limits on request strings (CDD_MAX_* in the header), in characters (code points)
/// as the schema counts them, checked on the decoded request. A refusal names the field and
/// never quotes the value back (it may be megabytes long).
public enum RequestLimits {
    public static func check(_ value: String?, _ field: String, _ range: ClosedRange<Int32>) throws(DriverError) {
        guard let value else { return }
        let length = value.unicodeScalars.count
        guard range.contains(Int32(clamping: length)) else {
            throw .invalid("\(field): \(length) characters, must be \(range.lowerBound) to \(range.upperBound)")
        }
    }

    public static func check(tags: [String: String]) throws(DriverError) {
        for (key, value) in tags {
            try check(key, "tags key", 1...CDD_MAX_TAG_KEY)
            try check(value, "tags value", 0...CDD_MAX_TAG_VALUE)
        }
    }

    /// 1 to `max` ids, each an instance id's length.
    public static func check(ids: [String], max: Int32) throws(DriverError) {
        guard (1...Int(max)).contains(ids.count) else { throw .invalid("ids: 1 to \(max) instance ids, got \(ids.count)") }
        for id in ids { try check(id, "ids", 1...CDD_MAX_INSTANCE_ID) }
    }

    public static func check(providerType: String, field: String = "provider_type") throws(DriverError) {
        try check(providerType, field, 1...CDD_MAX_PROVIDER_TYPE)
    }
}

/// A request the ABI limits: decoded and checked in one step, so no operation forgets the check.
public protocol LimitedRequest: Decodable {
    func checkLimits() throws(DriverError)
}

extension LimitedRequest {
    public static func decode(_ body: Data) throws(DriverError) -> Self {
        let request = try Payload.decode(Self.self, body)
        try request.checkLimits()
        return request
    }
}

extension ListRequest: LimitedRequest {
    public func checkLimits() throws(DriverError) { try RequestLimits.check(tags: tags) }
}

extension DestroyRequest: LimitedRequest {
    public func checkLimits() throws(DriverError) { try RequestLimits.check(ids: ids, max: CDD_MAX_DESTROY_IDS) }
}

extension SetTagsRequest: LimitedRequest {
    public func checkLimits() throws(DriverError) {
        try RequestLimits.check(ids: ids, max: CDD_MAX_SET_TAGS_IDS)
        try RequestLimits.check(tags: tags)
    }
}

extension QuotaGroupRequest: LimitedRequest {
    public func checkLimits() throws(DriverError) { try RequestLimits.check(providerType: providerType) }
}

extension CreateRequest: LimitedRequest {
    /// A create request's body decoded, its strings within the ABI's limits and its count
    /// within the driver's `max_create_count`.
    public static func decode(_ body: Data, maxCount: Int) throws(DriverError) -> CreateRequest {
        let request = try decode(body)
        guard (1...maxCount).contains(request.count) else { throw .invalid("create: count must be from 1 to \(maxCount) (max_create_count)") }
        return request
    }

    /// Every string of a create request within the ABI's limits; the token also in its alphabet.
    public func checkLimits() throws(DriverError) {
        try RequestLimits.check(providerType: instanceType.providerType, field: "instance_type.provider_type")
        try RequestLimits.check(instanceType.name, "instance_type.name", 1...CDD_MAX_PROVIDER_TYPE)
        try RequestLimits.check(image, "image", 0...CDD_MAX_IMAGE)
        try RequestLimits.check(initScript, "init_script", 0...CDD_MAX_INIT_SCRIPT)
        try RequestLimits.check(sshPublicKey, "ssh_public_key", 0...CDD_MAX_SSH_PUBLIC_KEY)
        try RequestLimits.check(idempotencyToken, "idempotency_token", 1...CDD_MAX_IDEMPOTENCY_TOKEN)
        if let token = idempotencyToken, !token.utf8.allSatisfy(ABIText.isNameByte) {
            throw .invalid("idempotency_token: 1 to \(CDD_MAX_IDEMPOTENCY_TOKEN) characters of [A-Za-z0-9._-]")
        }
        try RequestLimits.check(tags: tags)
    }
}
