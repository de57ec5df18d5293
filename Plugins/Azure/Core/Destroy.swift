import DriverSupport
import Foundation
import PluginABI

/// destroy: DELETE each VM (its OS disk, data disk, NIC and public IP go with it: they are
/// created with `deleteOption: Delete`), follow the operation for up to `destroy_wait`
/// seconds, then delete whatever of ours is still there. A VM ARM does not know is destroyed.
extension AzureInstanceSet {
    public func destroy(_ body: Data) throws(DriverError) -> Data {
        let request = try DestroyRequest.decode(body)
        let wanted = Array(Set(request.ids)).sorted()
        guard wanted.count <= Self.maxDestroyBatch else { throw .invalid("destroy: ids holds more than \(Self.maxDestroyBatch)") }
        // A name Azure could not have given a VM cannot exist: destroyed by definition. Another
        // set's VM is left alone and reported destroyed, as the ABI says (its set destroys it).
        let prefix = Names.setPrefix(setID)
        let ours = { (id: String) in Names.isResourceName(id) && id.hasPrefix(prefix) }
        var destroyed = wanted.filter { !ours($0) }
        let real = wanted.filter(ours)
        let outcomes = BoundedConcurrency.map(count: real.count, limit: config.createConcurrency) { i -> DriverError? in
            do throws(DriverError) { try self.remove(real[i]); return nil } catch { return error }
        }
        var failed: [DestroyReply.Failure] = []
        var firstError: DriverError?
        for (id, error) in zip(real, outcomes) {
            if error == nil { destroyedNames.insert(id) }
            if let error {
                firstError = firstError ?? error
                failed.append(.init(id: id, class: error.errorClass.name, message: String(error.description.prefix(1000))))
            } else {
                destroyed.append(id)
            }
        }
        // Nothing done at all: the call itself failed (auth, throttling …), so say so with its class.
        if let firstError, destroyed.isEmpty { throw firstError }
        return Payload.encode(DestroyReply(destroyed: destroyed.sorted(), failed: failed))
    }

    /// Deletes the VM and then its leftovers. Returns once ARM has accepted the VM's deletion.
    func remove(_ name: String) throws(DriverError) {
        destroying.withLock { _ = $0.insert(name) }
        let vm = try existingVM(name)
        if vm != nil {
            do throws(DriverError) {
                let accepted = try arm.call("DELETE", arm.groupPath(.virtualMachine, name), apiVersion: APIVersions.virtualMachines)
                // Still going at the bound: ARM carries on; anything it leaves is swept later.
                guard try arm.follow(accepted, boundSeconds: config.destroyWaitSeconds) == .succeeded else { return }
            } catch {
                guard error.errorClass == .notFound else { throw error }
            }
        }
        removeLeftovers(of: name, vm: vm)
    }

    /// The NIC, public IP and disks of a VM of this set that are still there, deleted one by
    /// one; 404 is what normally happens (they went with the VM). Failures are logged and left
    /// to the sweep. Only resources named with this set's prefix are touched.
    func removeLeftovers(of name: String, vm: AzureVM?) {
        let prefix = Names.setPrefix(setID)
        guard name.hasPrefix(prefix) else { return }
        var targets: [(ResourceKind, String)] = [(.networkInterface, Names.nic(name)), (.publicIPAddress, Names.publicIP(name)),
                                                 (.disk, Names.osDisk(name)), (.disk, Names.dataDisk(name))]
        for nicID in vm?.nicIDs ?? [] {
            let nicName = String(nicID.split(separator: "/").last ?? "")
            if nicName.hasPrefix(prefix), nicName != Names.nic(name) { targets.append((.networkInterface, nicName)) }
        }
        for disk in [vm?.osDiskName].compactMap({ $0 }) + (vm?.dataDiskNames ?? []) where disk.hasPrefix(prefix) {
            if !targets.contains(where: { $0.1 == disk }) { targets.append((.disk, disk)) }
        }
        for (kind, resource) in targets { deleteResource(kind, resource, boundSeconds: 30) }
    }

    /// Deletes one resource; not found is fine, other failures are logged (the sweep retries).
    @discardableResult
    func deleteResource(_ kind: ResourceKind, _ name: String, boundSeconds: Int) -> Bool {
        do throws(DriverError) {
            let accepted = try arm.call("DELETE", arm.groupPath(kind, name), apiVersion: kind.apiVersion)
            _ = try arm.follow(accepted, boundSeconds: boundSeconds)
            if accepted.status != 204 { log(.info, "deleted leftover \(kind.type)/\(name)") }
            return true
        } catch {
            if error.errorClass == .notFound { return true }
            log(.warn, "could not delete \(kind.type)/\(name): \(error.description); the leftover sweep will try again")
            return false
        }
    }

    /// After a failed create: the VM (if ARM made one) and everything named after it.
    func removeQuietly(_ name: String) {
        do throws(DriverError) { try remove(name) } catch {
            log(.warn, "cleanup of \(name) failed: \(error.description); the leftover sweep will try again")
        }
        destroying.withLock { _ = $0.remove(name) }
    }
}
