import Foundation

/// Where intents are kept: the queue's own store, so an intent is as durable as the containers
/// it serves. Both stores implement it.
public protocol CreateIntentLog: Sendable {
    /// Records `intent`; returns once it is durable.
    func recordIntent(_ intent: CreateIntent) async throws(QueueError)
    /// The create is settled: its instances are known, or the cloud refused it.
    func settleIntent(_ token: String) async throws(QueueError)
    /// Intents of `instanceSet` not settled yet, oldest first.
    func openIntents(instanceSet: String) async throws(QueueError) -> [CreateIntent]
}
