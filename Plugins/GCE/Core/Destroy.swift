import DriverSupport
import Foundation
import PluginABI
import Synchronization

/// destroy: one listing of the set, then `instances.delete` per instance of it,
/// `destroy_parallelism` at a time. An instance is
/// destroyed when GCE accepted its deletion, or when GCE says it is not there (404 naming
/// it); any other answer, however ambiguous, is a per-id failure for the host to retry.
extension GCEInstanceSet {
    public func destroy(_ body: Data) throws(DriverError) -> Data {
        let request = try DestroyRequest.decode(body)
        let wanted = Array(Set(request.ids)).sorted()
        // Ids that cannot be ZONE/NAME of this driver cannot exist: destroyed by definition.
        // Ids this set did not make (another set's, or gone) are destroyed as far as this set
        // is concerned and left untouched: one listing of the set says which are its own.
        let mine = wanted.contains { GCEInstance.parseID($0) != nil } ? Set(try instances(tags: [:]).map(\.id)) : []
        var destroyed = wanted.filter { !mine.contains($0) }
        let real = wanted.filter { mine.contains($0) }
        let results = Mutex<[String: DriverError?]>([:])
        let next = Mutex(0)
        let workers = min(config.destroyParallelism, real.count)
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                while true {
                    let i = next.withLock { n in defer { n += 1 }; return n }
                    guard i < real.count else { return }
                    let outcome: DriverError?
                    do throws(DriverError) { try delete(real[i]); outcome = nil } catch { outcome = error }
                    results.withLock { $0[real[i]] = .some(outcome) }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        var failed: [DestroyReply.Failure] = []
        var firstError: DriverError?
        for (id, outcome) in results.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            if let error = outcome {
                firstError = firstError ?? error
                failed.append(.init(id: id, class: error.errorClass.name, message: String(error.description.prefix(1000))))
            } else {
                destroyed.append(id)
            }
        }
        // Nothing done at all, for one reason (auth, throttling …): the call itself failed.
        if let firstError, destroyed.isEmpty, failed.allSatisfy({ $0.class == firstError.errorClass.name }) { throw firstError }
        return Payload.encode(DestroyReply(destroyed: destroyed.sorted(), failed: failed))
    }

    func delete(_ id: String) throws(DriverError) {
        guard let (zone, name) = GCEInstance.parseID(id) else { return }
        do throws(DriverError) {
            let op = try client.call("DELETE", "zones/\(zone)/instances/\(name)")
            if let error = ErrorMapping.fromOperation(op, what: "instances.delete \(id)", throttleRetryMs: config.common.throttleRetryMs) {
                throw error
            }
        } catch where error.httpStatus == 404 && error.code == "notFound" && error.message.contains("/zones/\(zone)/instances/\(name)'") {
            return  // really gone: Google names the instance ("The resource 'projects/p/zones/z/instances/n' was not found")
        }
    }
}
