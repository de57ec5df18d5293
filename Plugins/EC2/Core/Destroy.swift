import DriverSupport
import Foundation
import PluginABI

/// destroy: TerminateInstances in batches. EC2 refuses a whole batch when one id is unknown
/// (`InvalidInstanceID.NotFound`), but it says the same for an instance launched a moment ago
/// (its API is eventually consistent). So an id EC2 calls unknown is confirmed with
/// DescribeInstances before it is reported destroyed (see `aliveAmong`), and the rest of the
/// batch is sent again.
extension EC2InstanceSet {
    public func destroy(_ body: Data) throws(DriverError) -> Data {
        let request = try DestroyRequest.decode(body)
        var outcome = TerminateOutcome()
        var firstError: DriverError?
        // Ids that cannot be EC2 instance ids cannot exist: destroyed by definition.
        let wanted = Array(Set(request.ids)).sorted()
        outcome.destroyed += wanted.filter { !EC2Instance.isWellFormedID($0) }
        // Another set's instances do not exist for this one: destroyed by definition, left alone.
        // When that cannot be told, nothing is terminated: each id fails with the error.
        let wellFormed = wanted.filter(EC2Instance.isWellFormedID)
        var real: [String] = []
        do throws(DriverError) {
            let foreign: Set<String> = wellFormed.isEmpty ? [] : try foreignAmong(wellFormed)
            outcome.destroyed += wellFormed.filter { foreign.contains($0) }
            real = wellFormed.filter { !foreign.contains($0) }
        } catch {
            firstError = error
            outcome.failed += wellFormed.map { .init(id: $0, error: error) }
        }
        for start in stride(from: 0, to: real.count, by: config.destroyBatch) {
            let batch = Array(real[start..<min(start + config.destroyBatch, real.count)])
            do throws(DriverError) {
                outcome.merge(try terminate(batch))
            } catch {
                firstError = firstError ?? error
                outcome.failed += batch.map { .init(id: $0, error: error) }
            }
        }
        // Nothing done at all: the call itself failed (auth, throttling …), so say so with its class.
        if let firstError, outcome.destroyed.isEmpty { throw firstError }
        return Payload.encode(DestroyReply(destroyed: outcome.destroyed, failed: outcome.failed))
    }

    /// Terminates `ids`: the ids now terminated or gone, and those that failed one by one.
    func terminate(_ ids: [String]) throws(DriverError) -> TerminateOutcome {
        var outcome = TerminateOutcome()
        var remaining = ids
        /// Ids EC2 called unknown while DescribeInstances showed them alive: sent once more.
        var resent = Set<String>()
        while !remaining.isEmpty {
            var p = QueryParams(action: "TerminateInstances")
            p.list("InstanceId", remaining)
            do throws(DriverError) {
                _ = try client.call(p)
                outcome.destroyed += remaining
                return outcome
            } catch {
                guard error.code.hasPrefix("InvalidInstanceID.") else { throw error }
                var missing = Set(Self.instanceIDs(in: error.message)).intersection(remaining)
                if missing.isEmpty {
                    // Cannot tell which id: take them one at a time.
                    guard remaining.count == 1 else {
                        for id in remaining { outcome.merge(try terminate([id])) }
                        return outcome
                    }
                    missing = Set(remaining)
                }
                remaining.removeAll { missing.contains($0) }
                let alive = try aliveAmong(missing.sorted())
                outcome.destroyed += missing.subtracting(alive).sorted()
                for id in alive.sorted() {
                    if resent.insert(id).inserted {
                        remaining.append(id)
                    } else {
                        outcome.failed.append(.init(id: id, error: DriverError(
                            .transient, "EC2 says \(id) does not exist but still lists it running; try again later",
                            code: error.code, httpStatus: error.httpStatus)))
                    }
                }
            }
        }
        return outcome
    }

    /// Those of `ids` that DescribeInstances shows neither terminated nor shutting down. Asked
    /// with an `instance-id` filter, which (unlike `InstanceId.N`) does not fail on unknown ids.
    func aliveAmong(_ ids: [String]) throws(DriverError) -> Set<String> {
        Set(try describe(ids: ids).filter(\.isLive).map(\.id)).intersection(ids)
    }

    /// What DescribeInstances knows of `ids`, in any state, asked `filterValuesPerCall` at a time.
    func describe(ids: [String]) throws(DriverError) -> [EC2Instance] {
        var found: [EC2Instance] = []
        for start in stride(from: 0, to: ids.count, by: Self.filterValuesPerCall) {
            let chunk = Array(ids[start..<min(start + Self.filterValuesPerCall, ids.count)])
            found += try paged(action: "DescribeInstances", filters: [("instance-id", chunk)], maxResults: config.pageSize,
                               extract: EC2Instance.all)
        }
        return found
    }

    /// EC2 takes at most 200 values in one filter.
    static let filterValuesPerCall = 200

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

/// What a destroy did, id by id.
struct TerminateOutcome {
    var destroyed: [String] = []
    var failed: [DestroyReply.Failure] = []

    mutating func merge(_ other: TerminateOutcome) {
        destroyed += other.destroyed
        failed += other.failed
    }
}

extension DestroyReply.Failure {
    init(id: String, error: DriverError) {
        self.init(id: id, class: error.errorClass.name, message: String(error.description.prefix(1000)))
    }
}
