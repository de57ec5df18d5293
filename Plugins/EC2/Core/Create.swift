import DriverSupport
import Foundation

/// create: RunInstances with every tag at launch, the SSH key as an imported key pair, and
/// failover across the configured subnets on errors that concern one subnet.
extension EC2InstanceSet {
    public func create(_ body: Data) throws(DriverError) -> Data {
        let request = try CreateRequest.decode(body, maxCount: Self.maxCreateCount)
        guard !request.instanceType.providerType.isEmpty else { throw .invalid("create: instance_type.provider_type is empty") }
        guard let image = request.image ?? config.image, !image.isEmpty else {
            throw .invalid("create: no image (pass one in the request or set config.image)")
        }
        let subnets: [String?] = config.subnetIDs.isEmpty ? [nil] : config.subnetIDs
        if let token = request.idempotencyToken, request.firstSend != true,
            let earlier = try launched(by: token, subnets: subnets, tags: request.tags)
        {
            log(.info, "create: token already used; returning \(earlier.map(\.id).joined(separator: " "))")
            return reply(earlier, tags: request.tags)
        }
        let keyName = try keyPair(for: request.sshPublicKey)
        let builder = RunInstancesBuilder(config: config)
        let first = preferredSubnet.withLock { $0 } % subnets.count
        var errors: [DriverError] = []
        for attempt in 0..<subnets.count {
            let index = (first + attempt) % subnets.count
            let subnet = subnets[index]
            let token = request.idempotencyToken.map { RunInstancesBuilder.clientToken(setID: setID, token: $0, subnet: subnet) }
            let params = builder.params(for: request, image: image, subnet: subnet, keyName: keyName, clientToken: token,
                                        member: (Self.memberTagKey, setID))
            do throws(DriverError) {
                let made = EC2Instance.all(in: try client.call(params))
                guard !made.isEmpty else { throw DriverError(.internal, "RunInstances answered without instances") }
                // EC2 answers a repeated ClientToken with the first launch, terminated or not.
                if let token = request.idempotencyToken, !made.contains(where: \.isLive) { throw Self.spent(token) }
                preferredSubnet.withLock { $0 = index }
                log(.info, "created \(made.count) \(request.instanceType.providerType) in \(subnet ?? "the default subnet"): "
                    + made.map(\.id).joined(separator: " "))
                return reply(made, tags: request.tags)
            } catch {
                // An error that does not concern one subnet ends the call as it is.
                guard ErrorMapping.isSubnetSpecific(error.code) else { throw error }
                errors.append(error)
                if attempt + 1 < subnets.count {
                    log(.warn, "RunInstances in \(subnet ?? "?") failed (\(error.code)); trying the next subnet")
                }
            }
        }
        throw FailoverRanking.mostMeaningful(errors) ?? DriverError(.internal, "create: no subnet tried")
    }

    /// Instances launched earlier with this idempotency token (in any subnet), found by the
    /// request's tags and the client token EC2 keeps on each instance. EC2 itself answers a
    /// repeated ClientToken with the first launch; this lookup also covers EC2 look-alikes
    /// that do not (moto) and a token first used in another subnet.
    /// Only terminated ones: the token is spent (nothing is created for it again).
    func launched(by token: String, subnets: [String?], tags: [String: String]) throws(DriverError) -> [EC2Instance]? {
        let tokens = Set(subnets.map { RunInstancesBuilder.clientToken(setID: setID, token: token, subnet: $0) })
        // No state filter: terminated instances say the token is spent.
        let filters = tags.keys.sorted().map { ("tag:\($0)", [tags[$0]!]) }
        let found = try paged(action: "DescribeInstances", filters: filters, maxResults: config.pageSize, extract: EC2Instance.all)
            .filter { i in tokens.contains(i.clientToken) && tags.allSatisfy { i.tags[$0.key] == $0.value } }
        let live = found.filter(\.isLive)
        if live.isEmpty && !found.isEmpty { throw Self.spent(token) }
        return live.isEmpty ? nil : live
    }

    static func spent(_ token: String) -> DriverError {
        .invalid("idempotency_token: \(token) was used by a create whose instances are all terminated; a token is never used twice")
    }

    func reply(_ instances: [EC2Instance], tags: [String: String]) -> Data {
        // The tags were applied atomically at launch, so they are exactly the request's.
        Payload.encode(InstancesReply(instances: instances.sorted { $0.id < $1.id }.map {
            $0.reply(sshUser: config.adminUsername, usePublicIP: config.usePublicIP, tags: tags)
        }))
    }

    /// The key pair holding `publicKey`: the configured one, or one imported once for this
    /// set and tagged with the set id (named after the key's hash, so a repeat import is
    /// recognised as a duplicate rather than a conflict).
    func keyPair(for publicKey: String?) throws(DriverError) -> String? {
        if let configured = config.keyPairName { return configured }
        guard let key = publicKey?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty else { return nil }
        if let known = keyPairs.withLock({ $0[key] }) { return known }
        let fields = key.split(separator: " ")
        guard fields.count >= 2, fields[0].hasPrefix("ssh-") || fields[0].hasPrefix("ecdsa-") else {
            throw .invalid("create: ssh_public_key is not an OpenSSH public key")
        }
        let name = "cloud-dispatch-\(setID)-" + SHA256.hex(Array("\(fields[0]) \(fields[1])".utf8)).prefix(16)
        var p = QueryParams(action: "ImportKeyPair")
        p.set("KeyName", name)
        p.set("PublicKeyMaterial", Data("\(fields[0]) \(fields[1])".utf8).base64EncodedString())
        p.set("TagSpecification.1.ResourceType", "key-pair")
        p.tags("TagSpecification.1.Tag", [Self.setTagKey: setID])
        do throws(DriverError) {
            _ = try client.call(p)
            log(.info, "imported key pair \(name)")
        } catch {
            // A duplicate was imported before, by this or another process of the same set.
            guard error.code == "InvalidKeyPair.Duplicate" else { throw error }
        }
        keyPairs.withLock { $0[key] = name }
        return name
    }
}
