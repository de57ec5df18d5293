import APIClient
import APIModels
import ArgumentParser
import Queue
import Foundation
import Units

/// `cloud-dispatch instances`: the dispatcher's instances.
struct InstancesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "instances", abstract: "List the dispatcher's instances (admin token).")
    @OptionGroup var server: ServerOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let client = try server.client()
        let all = try await clientCall { try await client.instances() }
        if json { return try printJSON(all) }
        if all.isEmpty { return print("no instances") }
        let now = Date()
        let rows = all.map { i in
            [
                i.id, i.instanceType, i.providerType, i.address, i.workerState, i.idleBehavior, String(format: "%.4f", i.price),
                String(i.runningContainers.count), Units.brief(seconds: Int(now.timeIntervalSince(i.lastBusy))),
                Units.brief(seconds: Int(i.ageSeconds)),
            ]
        }
        print(
            TextTable.render(
                header: ["ID", "TYPE", "PROVIDER TYPE", "ADDRESS", "STATE", "IDLE", "PRICE/H", "RUNNING", "IDLE FOR", "AGE"], rows: rows
            )
            .joined(separator: "\n"))
    }
}

/// `cloud-dispatch hold|drain|run ID…`: an instance's idle behaviour.
struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hold", abstract: "Keep instances, idle or not, and start nothing new on them.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "Instance ids.") var ids: [String]
    func run() async throws { try await IdleBehavior.apply("hold", ids, server) }
}

struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drain", abstract: "Start nothing new on instances; shut each down once idle.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "Instance ids.") var ids: [String]
    func run() async throws { try await IdleBehavior.apply("drain", ids, server) }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Return instances to normal: run containers, shut down when idle too long.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "Instance ids.") var ids: [String]
    func run() async throws { try await IdleBehavior.apply("run", ids, server) }
}

enum IdleBehavior {
    static func apply(_ behavior: String, _ ids: [String], _ server: ServerOptions) async throws {
        guard !ids.isEmpty else { throw ValidationError("name at least one instance id") }
        let client = try server.client()
        for id in ids {
            let i = try await clientCall { try await client.setIdleBehavior(behavior, instance: id) }
            print("\(i.id) \(i.idleBehavior)")
        }
    }
}

/// `cloud-dispatch kill ID… --reason R`: shut instances down now.
struct KillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill",
        abstract: "Shut instances down now; their containers go back to the queue (a ctr-… uuid cancels that container instead)."
    )
    @OptionGroup var server: ServerOptions
    @Option(help: "Why (logged, and recorded on the containers it affects).") var reason: String
    @Argument(help: "Instance ids, or container uuids.") var ids: [String]

    func run() async throws {
        guard !ids.isEmpty else { throw ValidationError("name at least one instance id or container uuid") }
        let client = try server.client()
        for id in ids {
            if id.hasPrefix("ctr-") {
                let c = try await clientCall { try await client.kill(container: id, reason: reason) }
                print("\(c.uuid) \(c.state.rawValue)")
            } else {
                try await clientCall { try await client.kill(instance: id, reason: reason) }
                print("\(id) shutdown")
            }
        }
    }
}

/// `cloud-dispatch queue`: the scheduler's view.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "The scheduler's view of the queue, in its order, with eligible types and status (admin token).")
    @OptionGroup var server: ServerOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let client = try server.client()
        let all = try await clientCall { try await client.schedulerQueue() }
        if json { return try printJSON(all) }
        let rows = all.map { e in
            [String(e.position), e.uuid, e.state, String(e.priority), e.eligibleTypes.joined(separator: ","), e.schedulingStatus ?? ""]
        }
        print(TextTable.render(header: ["#", "UUID", "STATE", "PRIO", "ELIGIBLE TYPES", "STATUS"], rows: rows).joined(separator: "\n"))
    }
}

/// `cloud-dispatch dispatchers`: the dispatchers sharing the queue, and their takeovers.
struct DispatchersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatchers",
        abstract: "List the dispatchers sharing the queue: instance set, heartbeat, epoch, takeovers (admin token).")
    @OptionGroup var server: ServerOptions
    @Flag(help: "Print JSON.") var json = false
    @Option(help: ArgumentHelp("Forget a drained (or dead) dispatcher, so its id may start again.", valueName: "id"))
    var forget: String?

    func run() async throws {
        let client = try server.client()
        if let forget {
            try await clientCall { try await client.forgetDispatcher(forget) }
            return print("\(forget) forgotten")
        }
        let all = try await clientCall { try await client.dispatchers() }
        if json { return try printJSON(all) }
        if all.isEmpty { return print("no dispatchers") }
        let rows = all.map { d -> [String] in
            let state =
                switch d.state {
                case "taken_over": "taken over by \(d.takenOverBy ?? "?")"
                case "drained": "drained by \(d.takenOverBy ?? "?")"
                default: d.state
                }
            let since = (d.drainedAt ?? d.takenOverAt).map { Timestamp.format($0) } ?? ""
            return [d.id, d.instanceSet, d.driver, "\(d.host) pid \(d.pid)", Units.brief(seconds: Int(d.heartbeatAge)), String(d.epoch), state, since]
        }
        print(
            TextTable.render(header: ["ID", "INSTANCE SET", "DRIVER", "PROCESS", "HEARTBEAT", "EPOCH", "STATE", "SINCE"], rows: rows)
                .joined(separator: "\n"))
    }
}
