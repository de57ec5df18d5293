import DriverSupport
import Foundation

/// create: `instances.insert` for one instance, `instances.bulkInsert` for more (one call),
/// every tag as a label at launch, and failover across the configured zones on errors that
/// concern one zone. The idempotency token names the instances and becomes GCE's requestId.
extension GCEInstanceSet {
    public func create(_ body: Data) throws(DriverError) -> Data {
        let request = try CreateRequest.decode(body, maxCount: Self.maxCreateCount)
        let type = request.instanceType.providerType
        guard GCEConfig.isName(type) else { throw .invalid("create: instance_type.provider_type \"\(type)\" is not a GCE machine type") }
        guard let image = request.image ?? config.image, !image.isEmpty else {
            throw .invalid("create: no image (pass one in the request or set config.image)")
        }
        if request.instanceType.preemptible, let spot = config.spotPrices[type], spot > request.instanceType.price {
            throw DriverError(.unsupported, "create: spot \(type) costs \(spot) (config.spot_prices), above the type's price \(request.instanceType.price); GCE spot takes no maximum price")
        }
        if let key = request.sshPublicKey, !key.isEmpty, key.split(separator: " ").count < 2 {
            throw .invalid("create: ssh_public_key is not an OpenSSH public key")
        }
        let token = request.idempotencyToken ?? UUID().uuidString
        let base = InstanceBody.nameBase(setID: setID, token: token)
        if request.idempotencyToken != nil, request.firstSend != true, let earlier = try launched(base: base, tags: request.tags) {
            log(.info, "create: token already used; returning \(earlier.map(\.id).joined(separator: " "))")
            return reply(earlier)
        }
        if let spent = request.idempotencyToken, spentTokens.contains(spent) { throw Self.spent(spent) }
        let builder = InstanceBody(config: config, request: request, image: image, setID: setID)
        let first = preferredZone.withLock { $0 } % config.zones.count
        var errors: [DriverError] = []
        for attempt in 0..<config.zones.count {
            let index = (first + attempt) % config.zones.count
            let zone = config.zones[index]
            do throws(DriverError) {
                let made = try create(in: zone, builder: builder, base: base, token: token)
                preferredZone.withLock { $0 = index }
                if let t = request.idempotencyToken { spentTokens.insert(t) }
                log(.info, "created \(made.count) \(type) in \(zone): " + made.map(\.name).joined(separator: " "))
                return reply(made)
            } catch {
                if Self.isAlreadyExists(error), let earlier = try launched(base: base, tags: request.tags) {
                    return reply(earlier)  // made by an earlier try whose answer was lost
                }
                guard ErrorMapping.isZoneSpecific(error) else { throw error }
                errors.append(error)
                if attempt + 1 < config.zones.count { log(.warn, "create in \(zone) failed (\(error.code)); trying the next zone") }
            }
        }
        throw ErrorMapping.mostInformative(errors) ?? DriverError(.internal, "create: no zone tried")
    }

    func create(in zone: String, builder: InstanceBody, base: String, token: String) throws(DriverError) -> [GCEInstance] {
        let requestID = InstanceBody.requestID(setID: setID, token: token, zone: zone)
        let count = builder.request.count
        if count == 1 {
            let name = InstanceBody.name(base: base, index: 1)
            let op = try client.call("POST", "zones/\(zone)/instances", query: [("requestId", requestID)],
                                     body: builder.instance(name: name, zone: zone))
            _ = try client.wait(op, what: "instances.insert \(zone)/\(name)")
            let answer: JSONValue
            do throws(DriverError) {
                answer = try client.call("GET", "zones/\(zone)/instances/\(name)")
            } catch where error.errorClass == .notFound && Self.wasDone(op) {
                // GCE answered a repeated requestId with the first create's finished operation,
                // and that create's instance is gone: the token is spent.
                throw Self.spent(token)
            }
            guard let made = GCEInstance(answer) else {
                throw DriverError(.internal, "instances.get \(zone)/\(name): no name or zone in the answer")
            }
            return [made]
        }
        let op = try client.call("POST", "zones/\(zone)/instances/bulkInsert", query: [("requestId", requestID)],
                                 body: builder.bulk(base: base))
        _ = try client.wait(op, what: "instances.bulkInsert \(count) in \(zone)")
        let made = try instances(tags: builder.request.tags).filter { $0.zone == zone && $0.name.hasPrefix(base + "-") }
        guard !made.isEmpty else {
            // as for insert: a finished operation at once is the first create's, whose instances are gone
            if Self.wasDone(op) { throw Self.spent(token) }
            throw DriverError(.internal, "bulkInsert in \(zone) finished, but no instance \(base)-#### is listed")
        }
        return Array(made.sorted { $0.name < $1.name }.prefix(count))
    }

    /// Instances an earlier create with this token made, in any zone.
    func launched(base: String, tags: [String: String]) throws(DriverError) -> [GCEInstance]? {
        let found = try instances(tags: tags).filter { $0.name.hasPrefix(base + "-") }
        return found.isEmpty ? nil : found
    }

    /// An operation already DONE in the answer to an insert: GCE answered a repeated requestId
    /// with the earlier create's operation (a new create's operation is PENDING or RUNNING).
    static func wasDone(_ operation: JSONValue) -> Bool { operation["status"].string == "DONE" }

    static func spent(_ token: String) -> DriverError {
        DriverError(.invalid, "idempotency_token \"\(token.prefix(16))\": an earlier create with this token finished and its instances are all gone; nothing created",
                 code: "spentToken")
    }

    static func isAlreadyExists(_ error: DriverError) -> Bool {
        error.code == "alreadyExists" || error.code == "RESOURCE_ALREADY_EXISTS" || error.httpStatus == 409
    }

    func reply(_ instances: [GCEInstance]) -> Data {
        Payload.encode(InstancesReply(instances: instances.sorted { $0.id < $1.id }.compactMap { i in
            // Just created: a status GCE has not reported yet is still booting.
            var booting = i
            if booting.state == nil { booting.status = "PROVISIONING" }
            return booting.reply(config: config)
        }))
    }
}
