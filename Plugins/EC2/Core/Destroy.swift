import Foundation

/// destroy: TerminateInstances in batches. EC2 refuses a whole batch when one id does not
/// exist, and an id that does not exist counts as destroyed: those ids are taken from the
/// error message and the rest of the batch is sent again.
extension EC2InstanceSet {
    public func destroy(_ body: Data) throws(EC2Error) -> Data {
        let request = try Payload.decode(DestroyRequest.self, body)
        var destroyed: [String] = []
        var failed: [DestroyReply.Failure] = []
        var firstError: EC2Error?
        // Ids that cannot be EC2 instance ids cannot exist: destroyed by definition.
        let wanted = Array(Set(request.ids)).sorted()
        destroyed += wanted.filter { !EC2Instance.isWellFormedID($0) }
        let real = wanted.filter(EC2Instance.isWellFormedID)
        for start in stride(from: 0, to: real.count, by: config.destroyBatch) {
            let batch = Array(real[start..<min(start + config.destroyBatch, real.count)])
            do throws(EC2Error) {
                destroyed += try terminate(batch)
            } catch {
                firstError = firstError ?? error
                failed += batch.map { DestroyReply.Failure(id: $0, class: error.errorClass.name, message: String(error.description.prefix(1000))) }
            }
        }
        // Nothing done at all: the call itself failed (auth, throttling …), so say so with its class.
        if let firstError, destroyed.isEmpty { throw firstError }
        return Payload.encode(DestroyReply(destroyed: destroyed, failed: failed))
    }

    /// Terminates `ids`; returns the ids now terminated or gone.
    func terminate(_ ids: [String]) throws(EC2Error) -> [String] {
        var remaining = ids
        var gone: [String] = []
        while !remaining.isEmpty {
            var p = QueryParams(action: "TerminateInstances")
            p.list("InstanceId", remaining)
            do throws(EC2Error) {
                _ = try client.call(p)
                return gone + remaining
            } catch {
                guard error.code.hasPrefix("InvalidInstanceID.") else { throw error }
                let missing = Set(Self.instanceIDs(in: error.message)).intersection(remaining)
                // Cannot tell which id: take them one at a time.
                guard !missing.isEmpty else {
                    if remaining.count == 1 { return gone + remaining }
                    var each: [String] = []
                    for id in remaining { each += try terminate([id]) }
                    return gone + each
                }
                gone += missing.sorted()
                remaining.removeAll { missing.contains($0) }
            }
        }
        return gone
    }

    /// Instance ids mentioned in an EC2 message (`The instance IDs 'i-1, i-2' do not exist`).
    static func instanceIDs(in message: String) -> [String] {
        var ids: [String] = []
        var current = ""
        for ch in message + " " {
            if ch.isLetter || ch.isNumber || ch == "-" { current.append(ch); continue }
            if EC2Instance.isWellFormedID(current) { ids.append(current) }
            current = ""
        }
        return ids
    }
}
