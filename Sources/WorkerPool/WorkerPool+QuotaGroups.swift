import DriverHost
import Scheduler

extension WorkerPool {
    /// The quota group the configuration gives a type it leaves in no group of its own.
    public static let unsetQuotaGroup = "default"

    /// `types`, each the configuration left in no quota group given the driver's (`quota_group`):
    /// a family's capacity error then backs off the types that share that quota, not every type.
    /// A type the driver cannot place keeps its group (its creates will say why).
    public func withDriverQuotaGroups(_ types: [InstanceType]) async -> [InstanceType] {
        var result = types
        for (i, t) in types.enumerated() where t.quotaGroup == Self.unsetQuotaGroup {
            do {
                let group = try await instanceSet.quotaGroup(providerType: t.providerType, preemptible: t.preemptible)
                if !group.isEmpty { result[i].quotaGroup = group }
            } catch {
                logger.warning(
                    "the driver names no quota group for a type; it stays in the default group",
                    metadata: ["type": "\(t.name)", "error": "\(error)"])
            }
        }
        if result != types {
            logger.info(
                "quota groups from the driver", metadata: ["groups": "\(result.map { "\($0.name)=\($0.quotaGroup)" }.joined(separator: ","))"])
            for t in result { self.types[t.name] = t }
        }
        return result
    }
}
