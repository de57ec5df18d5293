import Foundation
import Queue

/// `bench queue`: submit and lock throughput of a store, one container per call and in batches,
/// and single-row transitions (start, one container per call). One-per-call submits run twice:
/// from one client, one after another (that rate is one over a call's latency), and from
/// `clients` at once, as an API serves them.
///
///     let result = try await QueueThroughput(count: 10_000, batch: 100).run(store) { print($0.line) }
///     print(result.summary)
public struct QueueThroughput: Sendable {
    /// Containers per phase.
    public var count: Int
    /// Containers per call in the batch phases.
    public var batch: Int
    /// Submitters at once in the concurrent one-per-call phase.
    public var clients: Int

    public init(count: Int, batch: Int, clients: Int = 8) {
        self.count = count
        self.batch = max(1, batch)
        self.clients = max(1, clients)
    }

    /// One phase: how many containers, how long.
    public struct Phase: Sendable {
        public var label: String
        public var containers: Int
        public var seconds: Double

        public var rate: Double { Double(containers) / seconds }
        public var line: String {
            "\(label.padding(toLength: max(26, label.count), withPad: " ", startingAt: 0)) \(String(format: "%8.0f", rate)) containers/s  "
                + "(\(String(format: "%.2f", seconds)) s)"
        }
    }

    public struct Result: Sendable {
        public var submitSingle, submitConcurrent, submitBatched, lockSingle, lockBatched, startSingle: Phase

        public var summary: String {
            "summary: submit \(Int(submitSingle.rate))/s single from one client, \(Int(submitConcurrent.rate))/s from several, "
                + "\(Int(submitBatched.rate))/s batched; "
                + "lock \(Int(lockSingle.rate))/s single, \(Int(lockBatched.rate))/s batched; start \(Int(startSingle.rate))/s single"
        }
    }

    /// Submits `count` containers one by one, `count` one by one from `clients` at once and
    /// `count` in batches, then locks the batched ones,
    /// half one by one and half in batches, then starts them all one by one (a transition: read,
    /// `Transition.apply`, write). `each` sees every phase as it ends.
    public func run(_ store: any ContainerStore, by dispatcher: String = "bench", each: (Phase) -> Void = { _ in }) async throws -> Result {
        func phase(_ label: String, _ containers: Int, _ body: () async throws -> Void) async throws -> Phase {
            let p = Phase(label: label, containers: containers, seconds: try await Stopwatch.seconds(body))
            each(p)
            return p
        }
        let singles = try await phase("submit, 1 per request", count) {
            for i in 0..<count { _ = try await store.submit([ContainerSpec(command: ["single", String(i)])]) }
        }
        let concurrent = try await phase("submit, 1 per request, \(clients) clients", count) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        for i in stride(from: client, to: count, by: clients) {
                            _ = try await store.submit([ContainerSpec(command: ["concurrent", String(i)])])
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        var uuids: [String] = []
        let batches = try await phase("submit, \(batch) per request", count) {
            var i = 0
            while i < count {
                let n = min(batch, count - i)
                uuids += try await store.submit((0..<n).map { ContainerSpec(command: ["batch", String(i + $0)]) }).map(\.uuid)
                i += n
            }
        }
        let half = uuids.count / 2
        let locks = try await phase("lock, 1 per request", half) {
            for uuid in uuids[..<half] { _ = try await store.lock([uuid], by: dispatcher) }
        }
        let batchLocks = try await phase("lock, \(batch) per request", uuids.count - half) {
            var rest = uuids[half...]
            while !rest.isEmpty {
                _ = try await store.lock(Array(rest.prefix(batch)), by: dispatcher)
                rest = rest.dropFirst(batch)
            }
        }
        let starts = try await phase("start, 1 per request", uuids.count) {
            for uuid in uuids { _ = try await store.apply(.start(by: dispatcher, instance: "bench"), to: uuid) }
        }
        return Result(submitSingle: singles, submitConcurrent: concurrent, submitBatched: batches, lockSingle: locks, lockBatched: batchLocks, startSingle: starts)
    }
}
