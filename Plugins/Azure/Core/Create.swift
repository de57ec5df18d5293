import DriverSupport
import Foundation

/// create: per instance a NIC (and a public IP when configured), then the VM — every one named
/// after the idempotency token, so a repeated request finds what the first one made. Count > 1
/// runs as concurrent creates, at most `create_concurrency` at a time: ARM counts writes per
/// subscription and per hour (about 1,200 an hour per principal), and one VM costs two or three.
extension AzureInstanceSet {
    public func create(_ body: Data) throws(DriverError) -> Data {
        let request = try CreateRequest.decode(body, maxCount: Self.maxCreateCount)
        let size = request.instanceType.providerType
        guard Names.isResourceName(size) else { throw .invalid("create: instance_type.provider_type \"\(size)\" is not an Azure VM size") }
        let image: ImageReference
        if let given = request.image {
            guard let parsed = ImageReference(parsing: given) else {
                throw .invalid("create: image \"\(given)\" is neither an image or gallery version resource id nor PUBLISHER:OFFER:SKU:VERSION")
            }
            image = parsed
        } else if let configured = config.image {
            image = configured
        } else {
            throw .invalid("create: no image (pass one in the request or set config.image)")
        }
        if let bad = request.tags.first(where: { $0.key.isEmpty || $0.key.count > 512 || $0.value.count > 256 || $0.key.contains(where: { "<>%&\\?/".contains($0) }) }) {
            throw .invalid("create: tag \"\(bad.key.prefix(64))\" is not one Azure accepts (name up to 512 characters without <>%&\\?/, value up to 256)")
        }
        let key = try sshKey(request.sshPublicKey)
        let token = request.idempotencyToken ?? UUID().uuidString
        let names = (0..<request.count).map { Names.vm(setID: setID, token: token, index: $0) }
        if request.idempotencyToken != nil, names.allSatisfy(destroyedNames.contains) {
            throw .invalid("idempotency_token: its instances were destroyed; a token never makes instances twice")
        }
        let bodies = ResourceBodies(config: config, setID: setID)
        let outcomes = BoundedConcurrency.map(count: request.count, limit: config.createConcurrency) { index -> Result<Made, DriverError> in
            let name = Names.vm(setID: self.setID, token: token, index: index)
            do throws(DriverError) {
                return .success(try self.createOne(name: name, request: request, image: image, key: key, bodies: bodies))
            } catch {
                return .failure(error)
            }
        }
        var made: [Made] = []
        var errors: [DriverError] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let m): made.append(m)
            case .failure(let e): errors.append(e)
            }
        }
        guard !made.isEmpty else { throw Self.mostMeaningful(errors) ?? DriverError(.internal, "create: nothing attempted") }
        if let first = errors.first {
            log(.warn, "create: \(made.count) of \(request.count) \(size) made; the others failed: \(first.description)")
        }
        log(.info, "created \(made.count) \(size): " + made.map(\.vm.name).joined(separator: " "))
        return Payload.encode(InstancesReply(instances: made.sorted { $0.vm.name < $1.vm.name }.map {
            $0.vm.reply(sshUser: config.adminUsername, address: $0.address, usePublicIP: config.usePublicIP, tags: request.tags)
        }))
    }

    struct Made: Sendable {
        var vm: AzureVM
        var address: Addresses?
    }

    /// One VM by name: returned as it is when it exists (a repeated request), else NIC (+ IP)
    /// and VM are PUT and followed for up to `create_wait` seconds. A create that fails leaves
    /// nothing behind that it can delete; what it cannot, the sweep in `list` does.
    func createOne(name: String, request: CreateRequest, image: ImageReference, key: String, bodies: ResourceBodies) throws(DriverError) -> Made {
        if let existing = try existingVM(name) {
            guard !existing.isGoing else {
                throw DriverError(.transient, "VM \(name) of this idempotency token is being deleted; try again with a new token", code: "Conflict")
            }
            log(.info, "create: \(name) exists already (same idempotency token); returning it")
            return Made(vm: existing, address: nil)
        }
        let now = clock()
        do throws(DriverError) {
            var publicIPID: String?
            if config.usePublicIP {
                let ip = try arm.call("PUT", arm.groupPath(.publicIPAddress, Names.publicIP(name)), apiVersion: APIVersions.network,
                                      body: bodies.publicIP(tags: request.tags, now: now))
                _ = try arm.follow(ip, boundSeconds: config.createWaitSeconds)
                publicIPID = ip.json["id"].string ?? arm.groupPath(.publicIPAddress, Names.publicIP(name))
            }
            let nicPath = arm.groupPath(.networkInterface, Names.nic(name))
            let nic = try arm.call("PUT", nicPath, apiVersion: APIVersions.network,
                                   body: bodies.nic(tags: request.tags, publicIPID: publicIPID, now: now))
            _ = try arm.follow(nic, boundSeconds: config.createWaitSeconds)
            let nicID = nic.json["id"].string ?? nicPath
            let privateIP = nic.json["properties"]["ipConfigurations"].array?.first?["properties"]["privateIPAddress"].string
            let put = try arm.call("PUT", arm.groupPath(.virtualMachine, name), apiVersion: APIVersions.virtualMachines,
                                   body: try bodies.vm(name: name, request: request, image: image, nicID: nicID, sshKey: key))
            let outcome = try arm.follow(put, boundSeconds: config.createWaitSeconds)
            var vm = AzureVM(put.json)
            if vm.name.isEmpty { vm.name = name }
            if outcome == .succeeded, (try? existingVM(name)).flatMap({ $0 }).map({ vm = $0 }) == nil {
                vm.provisioningState = "Succeeded"
            }
            return Made(vm: vm, address: Addresses(privateIP: privateIP, publicIP: nil))
        } catch {
            log(.warn, "create of \(name) failed (\(error.description)); removing what it made")
            removeQuietly(name)
            throw error
        }
    }

    /// The VM by that name, nil when ARM does not know it.
    func existingVM(_ name: String) throws(DriverError) -> AzureVM? {
        do throws(DriverError) {
            let vm = AzureVM(try arm.call("GET", arm.groupPath(.virtualMachine, name), apiVersion: APIVersions.virtualMachines,
                                          query: [("$expand", "instanceView")]).json)
            return vm
        } catch {
            guard error.errorClass == .notFound else { throw error }
            return nil
        }
    }

    /// The request's SSH key, checked; without one, a key nobody holds (see `LockedKey`).
    func sshKey(_ given: String?) throws(DriverError) -> String {
        guard let key = given?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty else { return try LockedKey.make() }
        let fields = key.split(separator: " ")
        guard fields.count >= 2, fields[0].hasPrefix("ssh-") || fields[0].hasPrefix("ecdsa-"),
              Data(base64Encoded: String(fields[1])) != nil else {
            throw .invalid("create: ssh_public_key is not an OpenSSH public key")
        }
        return key
    }

    /// Of several failures, the one the host must react to first (capacity before quota before
    /// throttling …), so a shortage is not hidden behind a lesser error.
    static func mostMeaningful(_ errors: [DriverError]) -> DriverError? {
        let rank: [ErrorClass: Int] = [.capacityType: 1, .capacityFamily: 1, .capacityGlobal: 1, .quota: 2, .rateLimit: 3,
                                       .transient: 4, .auth: 5, .unsupported: 6, .invalid: 7, .notFound: 7, .internal: 8]
        return errors.enumerated().min { (rank[$0.element.errorClass] ?? 9, $0.offset) < (rank[$1.element.errorClass] ?? 9, $1.offset) }?.element
    }
}
