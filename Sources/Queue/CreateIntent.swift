import Foundation

/// A create the dispatcher is about to ask of the cloud, recorded durably before the call. Its
/// token goes to the driver as the idempotency token and onto every instance as a tag, so that
/// whatever is lost — the cloud's answer, a retry's, the whole process — the same intent never
/// makes a second set of instances: a retry reuses the token, and a restart finds the intent
/// open and reconciles it with the cloud's listing before creating anything new.
public struct CreateIntent: Sendable, Hashable {
    /// 1–64 characters of [A-Za-z0-9._-] (what every driver takes as an idempotency token).
    public var token: String
    public var instanceSet: String
    public var typeName: String
    public var count: Int
    /// The per-create instance secret (init script and tag): a retry must send the same request.
    public var secret: String?
    public var createdAt: Date

    public init(
        token: String = CreateIntent.newToken(), instanceSet: String, typeName: String, count: Int, secret: String?,
        createdAt: Date
    ) {
        self.token = token
        self.instanceSet = instanceSet
        self.typeName = typeName
        self.count = count
        self.secret = secret
        self.createdAt = createdAt
    }

    public static func newToken() -> String {
        "ci-" + (0..<20).map { _ in String("0123456789abcdefghijklmnopqrstuvwxyz".randomElement()!) }.joined()
    }
}
