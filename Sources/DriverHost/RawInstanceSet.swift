import Foundation
import JSON

/// An instance set reached through one raw JSON call per operation: the typed operations,
/// their request and reply checks, are written once here for every way of reaching a driver
/// (`NativeInstanceSet` in this process, `ProcessInstanceSet` in a driver process).
///
///     let reply = try await set.rawCall(.list, #"{"tags":{}}"#)   // checked reply, unchecked request
///     let instances = try await set.list(tags: [:])                // both checked, decoded
public protocol RawInstanceSet: InstanceSet {
    /// Sends `requestJSON` as is — no request check — and returns the reply, checked against
    /// the operation's reply schema. The conformance kit uses it to send malformed requests.
    func rawCall(_ operation: DriverOperation, _ requestJSON: String) async throws(DriverError) -> JSONValue
}

extension RawInstanceSet {
    public func create(_ request: CreateRequest) async throws(DriverError) -> [Instance] {
        let reply = try await perform(.create, DriverJSON.encode(request))
        let instances = try DriverReply.decode(InstancesReply.self, reply, driver: driverID, operation: .create).instances
        guard instances.count <= request.count else {
            throw contractError(.create, "asked for \(request.count) instances, got \(instances.count)")
        }
        return instances
    }

    public func list(tags: [String: String]) async throws(DriverError) -> [Instance] {
        let reply = try await perform(.list, DriverJSON.encode(ListRequest(tags: tags)))
        return try DriverReply.decode(InstancesReply.self, reply, driver: driverID, operation: .list).instances
    }

    public func destroy(ids: [String]) async throws(DriverError) -> DestroyResult {
        let reply = try await perform(.destroy, DriverJSON.encode(DestroyRequest(ids: ids)))
        let result = try DriverReply.decode(DestroyResult.self, reply, driver: driverID, operation: .destroy)
        let asked = Set(ids)
        if let stray = (result.destroyed + result.failed.map(\.id)).first(where: { !asked.contains($0) }) {
            throw contractError(.destroy, "reply names instance \(stray), which was not in the request")
        }
        return result
    }

    public func setTags(ids: [String], tags: [String: String]) async throws(DriverError) {
        _ = try await perform(.setTags, DriverJSON.encode(SetTagsRequest(ids: ids, tags: tags)))
    }

    public func instanceTypes() async throws(DriverError) -> [CatalogInstanceType] {
        let reply = try await perform(.instanceTypes, "{}")
        return try DriverReply.decode(CatalogReply.self, reply, driver: driverID, operation: .instanceTypes).instanceTypes
    }

    public func quotaGroup(providerType: String, preemptible: Bool) async throws(DriverError) -> String {
        let request = QuotaGroupRequest(providerType: providerType, preemptible: preemptible)
        let reply = try await perform(.quotaGroup, DriverJSON.encode(request))
        return try DriverReply.decode(QuotaGroupReply.self, reply, driver: driverID, operation: .quotaGroup).group
    }

    /// Checks the request against its schema before it leaves the host, then calls.
    func perform(_ operation: DriverOperation, _ requestJSON: String) async throws(DriverError) -> JSONValue {
        if let refusal = RequestLimits.refusal(of: requestJSON, as: operation, driver: driverID) { throw refusal }
        return try await rawCall(operation, requestJSON)
    }

    private func contractError(_ operation: DriverOperation, _ message: String) -> DriverError {
        DriverError(.internal, message, driver: driverID, operation: operation.rawValue)
    }
}

/// Parsing and decoding a plugin's reply: the same checks wherever the plugin runs, whatever its kind.
enum DriverReply {
    /// Largest reply accepted from a plugin.
    static let maxBytes = 64 << 20

    /// Parses `text` and checks it against the operation's reply schema.
    static func parse<Operation: PluginOperation>(_ text: String, driver: String, operation: Operation) throws(DriverError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: Data(text.utf8))
        } catch {
            throw DriverError(.internal, "reply is not valid JSON (\(error)): \(preview(text))", driver: driver, operation: operation.rawValue)
        }
        let problems = Operation.schema.validate(value, against: operation.replySchema)
        guard problems.isEmpty else {
            throw DriverError(
                .internal, "reply breaks the \(operation.replySchema) schema: " + problems.prefix(5).joined(separator: "; "),
                driver: driver, operation: operation.rawValue)
        }
        return value
    }

    static func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue, driver: String, operation: DriverOperation) throws(DriverError) -> T {
        try decode(type, value, driver: driver, named: operation.rawValue)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue, driver: String, named operation: String) throws(DriverError) -> T {
        do {
            return try JSONValueDecoder().decode(type, from: value)
        } catch {
            throw DriverError(.internal, "reply does not decode: \(error)", driver: driver, operation: operation)
        }
    }

    static func preview(_ text: String) -> String {
        let oneLine = text.replacingOccurrences(of: "\n", with: " ")
        return oneLine.count > 80 ? String(oneLine.prefix(80)) + "…" : oneLine
    }
}
