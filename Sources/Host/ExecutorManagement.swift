import API
import APIModels
import DriverHost
import ExecutorPool
import Foundation
import Queue

/// The management API's view of an executor pool: its jobs stand where instances stand for VMs.
struct ExecutorManagement: ManagementService {
    let dispatcher: ExecutorDispatcher
    let lease: any DispatcherLease

    /// Each job as an instance: its id, where it runs, its partition, its state, its container.
    func instances() async -> [InstanceSummary] {
        dispatcher.placements.map { job in
            InstanceSummary(
                id: job.id, address: job.where, instanceType: job.partition, providerType: dispatcher.backend.executorID, price: 0,
                workerState: job.state.rawValue, idleBehavior: "run", runningContainers: [job.tags[dispatcher.containerTag] ?? ""],
                lastBusy: Date(), ageSeconds: 0)
        }
    }

    func setIdleBehavior(_ behavior: String, instance id: String) async throws(ManagementError) -> InstanceSummary {
        throw .unavailable("the pool is the \(dispatcher.backend.executorID) executor backend: its jobs have no idle behaviour")
    }

    func kill(instance id: String, reason: String) async throws(ManagementError) {
        throw .unavailable("the pool is the \(dispatcher.backend.executorID) executor backend: cancel the container instead")
    }

    func queue() async -> [QueueEntry] {
        dispatcher.queue.enumerated().map { i, c in
            QueueEntry(
                position: i + 1, uuid: c.uuid, state: c.state, priority: c.priority, eligibleTypes: c.eligibleTypes, schedulingStatus: c.status)
        }
    }

    func explain(_ uuid: String) async throws(ManagementError) -> ContainerExplanation {
        let c: Container
        do {
            c = try await dispatcher.queueStore.get(uuid)
        } catch {
            if case .notFound = error { throw .unknownContainer(uuid) }
            throw .unavailable("the queue cannot answer: \(error)")
        }
        let queue = dispatcher.queue
        let index = queue.firstIndex { $0.uuid == uuid }
        // Partitions take the place of instance types: which could ever take it, and why not.
        return ContainerExplanation(
            c, status: index.map { queue[$0].status } ?? c.runtimeStatus.schedulingStatus, position: index.map { $0 + 1 }, queueLength: queue.count,
            types: dispatcher.partitionVerdicts(for: c).map {
                .init(name: $0.name, price: 0, eligible: $0.eligible, reason: $0.reason, blocked: nil)
            })
    }

    func health() async -> [String: String] {
        let id = dispatcher.backend.executorID
        let backend = dispatcher.backendHealth
        return ["executor": backend == "ok" ? "ok, \(id)" : "\(id) \(backend)", "lease": lease.problem ?? "ok"]
    }
}
