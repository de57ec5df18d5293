import APIClient
import ArgumentParser
import Foundation
import Queue
import Units

/// How CLI commands reach a running daemon.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The daemon's API (default: $CLOUD_DISPATCH_SERVER, else http://127.0.0.1:8723).", valueName: "url"))
    var server: String?

    @Option(
        help: ArgumentHelp(
            "File holding the API token (default: the token itself from $CLOUD_DISPATCH_TOKEN, else the file ./cloud-dispatch-state/admin.token).",
            valueName: "file"))
    var tokenFile: String?

    func client() throws -> APIClient {
        let env = ProcessInfo.processInfo.environment
        let text = server ?? env["CLOUD_DISPATCH_SERVER"] ?? "http://127.0.0.1:8723"
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
            printError("--server must be an http(s) URL")
            throw ExitCode(2)
        }
        var token = env["CLOUD_DISPATCH_TOKEN"]
        let file = tokenFile ?? (token == nil ? "cloud-dispatch-state/admin.token" : nil)
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                printError("cannot read the token file \(file) (set --token-file or CLOUD_DISPATCH_TOKEN)")
                throw ExitCode(2)
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return APIClient(server: url, token: token)
    }
}

/// Runs a client call, printing a server or network error readably.
func clientCall<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        printError("cloud-dispatch: \(error)")
        throw ExitCode(1)
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, enc in
        var c = enc.singleValueContainer()
        try c.encode(Timestamp.format(date))
    }
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Put a container in the queue.",
        discussion: "cloud-dispatch submit --vcpus 2 --ram 4GiB -- python3 train.py --epochs 3")

    @OptionGroup var server: ServerOptions
    @Option(help: "vCPUs it needs.") var vcpus = 1
    @Option(help: "Memory it needs, e.g. 4GiB.") var ram = "256MiB"
    @Option(help: "Local disk it needs, e.g. 20GiB.") var scratch = "0"
    @Option(help: "GPUs it needs.") var gpus = 0
    @Option(help: "GPU stack: cuda or rocm.") var gpuStack = "cuda"
    @Option(help: "Container image (runs as a plain process without one).") var image: String?
    @Option(name: .customLong("env"), help: ArgumentHelp("Environment variable, repeatable.", valueName: "K=V")) var environment: [String] = []
    @Option(help: "Working folder.") var cwd = "/"
    @Option(help: "Priority 0-1000; higher runs first, 0 never runs.") var priority = 1
    @Flag(help: "May run on preemptible (spot) instances.") var preemptible = false
    @Option(help: "Longest it may run, e.g. 90s, 2h.") var maxRunTime: String?
    @Option(name: .customLong("instance-type"), help: "Allowed instance type, repeatable.") var instanceTypes: [String] = []
    @Option(help: "Client request id: submitting again with it returns the same container.") var requestID: String?
    @Option(help: ArgumentHelp("JSON file: one spec, an array of specs, or {\"containers\": [...]}.", valueName: "file")) var file: String?
    @Flag(help: "Print the container(s) as JSON.") var json = false
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func run() async throws {
        let specs = try file.map(Self.specs(fromFile:)) ?? [try spec()]
        let client = try server.client()
        let made = try await clientCall { try await client.submit(specs) }
        if json { try printJSON(made) } else { made.forEach { print($0.uuid) } }
    }

    func spec() throws -> ContainerSpec {
        guard !command.isEmpty else { throw ValidationError("give the command after --, or --file") }
        let ramBytes = try Self.option("--ram") { () throws(UnitsProblem) in try Units.bytes(ram) }
        let scratchBytes = try Self.option("--scratch") { () throws(UnitsProblem) in try Units.bytes(scratch) }
        var env: [String: String] = [:]
        for pair in environment {
            guard let eq = pair.firstIndex(of: "=") else { throw ValidationError("--env \(pair): use K=V") }
            env[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        var limit = 0
        if let maxRunTime { limit = try Self.option("--max-run-time") { () throws(UnitsProblem) in try Units.wholeSeconds(maxRunTime) } }
        return ContainerSpec(
            command: command, containerImage: image, environment: env, cwd: cwd, priority: priority,
            runtimeConstraints: RuntimeConstraints(
                vcpus: vcpus, ram: ramBytes, scratch: scratchBytes,
                gpu: GPURequirement(count: gpus, stack: gpus > 0 ? gpuStack : "", vram: 0)),
            schedulingParameters: SchedulingParameters(preemptible: preemptible, maxRunTime: limit, instanceTypes: instanceTypes),
            clientRequestID: requestID)
    }

    /// A size or duration option, its problem named after the option.
    static func option<T>(_ name: String, _ parse: () throws(UnitsProblem) -> T) throws -> T {
        do { return try parse() } catch { throw ValidationError("\(name): \(error)") }
    }

    static func specs(fromFile path: String) throws -> [ContainerSpec] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        struct Batch: Decodable { var containers: [ContainerSpec] }
        let decoder = JSONDecoder()
        if let one = try? decoder.decode(ContainerSpec.self, from: data) { return [one] }
        if let many = try? decoder.decode([ContainerSpec].self, from: data) { return many }
        if let batch = try? decoder.decode(Batch.self, from: data) { return batch.containers }
        throw ValidationError("\(path): not a container spec, an array of specs, or {\"containers\": [...]}")
    }
}

struct PsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers.")

    @OptionGroup var server: ServerOptions
    @Option(help: "Only this state (repeatable): Queued, Locked, Running, Complete, Cancelled.") var state: [String] = []
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Show where and how long each ran, and its cost.") var wide = false

    func run() async throws {
        let states = try state.map { raw -> ContainerState in
            guard let s = ContainerState.allCases.first(where: { $0.rawValue.lowercased() == raw.lowercased() }) else {
                throw ValidationError("unknown state \(raw)")
            }
            return s
        }
        let client = try server.client()
        let all = try await clientCall { try await client.listAll(states: states) }
        if json { return try printJSON(all) }
        let now = Date()
        if wide { return print(Self.wideTable(all, now: now).joined(separator: "\n")) }
        let rows = all.map { c -> [String] in
            let status = c.runtimeStatus.error ?? c.runtimeStatus.schedulingStatus ?? ""
            return [
                c.uuid, c.state.rawValue, String(c.priority), String(c.runtimeConstraints.vcpus),
                Units.brief(bytes: c.runtimeConstraints.ram), Units.brief(seconds: Int(now.timeIntervalSince(c.createdAt))),
                c.exitCode.map(String.init) ?? "", c.command.joined(separator: " ").prefix(40).description, status,
            ]
        }
        print(
            TextTable.render(header: ["UUID", "STATE", "PRIO", "VCPUS", "RAM", "AGE", "EXIT", "COMMAND", "STATUS"], rows: rows)
                .joined(separator: "\n"))
    }
}

extension PsCommand {
    /// Wait: submitted → started (or now). Run: started → finished (or now). Type: the
    /// instance type it ran on.
    static func wideTable(_ all: [Container], now: Date) -> [String] {
        let rows = all.map { c -> [String] in
            let status = c.runtimeStatus.error ?? c.runtimeStatus.schedulingStatus ?? ""
            let wait = (c.startedAt ?? (c.state.isFinal ? c.finishedAt : nil) ?? now).timeIntervalSince(c.createdAt)
            let run = c.startedAt.map { (c.finishedAt ?? now).timeIntervalSince($0) }
            return [
                c.uuid, c.state.rawValue, String(c.runtimeConstraints.vcpus), Units.brief(bytes: c.runtimeConstraints.ram),
                c.instance?.split(separator: " ").first.map(String.init) ?? "", String(format: "%.1fs", wait),
                run.map { String(format: "%.1fs", $0) } ?? "", c.exitCode.map(String.init) ?? "",
                c.cost > 0 ? String(format: "%.6f", c.cost) : "", c.command.joined(separator: " ").prefix(32).description, status,
            ]
        }
        return TextTable.render(header: ["UUID", "STATE", "VCPUS", "RAM", "TYPE", "WAIT", "RUN", "EXIT", "COST", "COMMAND", "STATUS"], rows: rows)
    }
}

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one container as JSON.")
    @OptionGroup var server: ServerOptions
    @Argument var uuid: String

    func run() async throws {
        let client = try server.client()
        try printJSON(try await clientCall { try await client.get(uuid) })
    }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a container.")
    @OptionGroup var server: ServerOptions
    @Argument var uuid: String
    @Option(help: "Why (recorded in runtime_status.error).") var reason: String?

    func run() async throws {
        let client = try server.client()
        let c = try await clientCall { try await client.cancel(uuid, reason: reason) }
        print("\(c.uuid) \(c.state.rawValue)")
    }
}

struct PriorityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "priority", abstract: "Change a container's priority (0 stops it).")
    @OptionGroup var server: ServerOptions
    @Argument var uuid: String
    @Argument var priority: Int

    func run() async throws {
        let client = try server.client()
        let c = try await clientCall { try await client.setPriority(uuid, priority) }
        print("\(c.uuid) priority \(c.priority)")
    }
}

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print the last lines of a container's log.")
    @OptionGroup var server: ServerOptions
    @Argument var uuid: String

    func run() async throws {
        let client = try server.client()
        print(try await clientCall { try await client.log(uuid) }, terminator: "")
    }
}
