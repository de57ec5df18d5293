import APIClient
import APIModels
import ArgumentParser
import Foundation

/// `cloud-dispatch explain UUID`: why a container waits, or why it ended.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Why a container is waiting or why it ended: the instance types considered and why each is or is not eligible, back-offs, attempts."
    )
    @OptionGroup var server: ServerOptions
    @Argument var uuid: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let client = try server.client()
        let e = try await clientCall { try await client.explain(uuid) }
        if json { return try printJSON(e) }
        var head = "\(e.uuid): \(e.state), priority \(e.priority)"
        if let position = e.position, let length = e.queueLength { head += ", \(position) of \(length) in the scheduler's order" }
        print(head)
        print("why: \(e.summary)")
        if let instance = e.instance { print("instance: \(instance)") }
        if e.cost > 0 { print(String(format: "cost: %.6f", e.cost)) }
        if e.attemptsEnded > 0 { print("attempts ended without a result: \(e.attemptsEnded)") }
        if let warning = e.warning { print("last warning: \(warning)") }
        if let error = e.error, e.state != "Cancelled" { print("error: \(error)") }
        print("instance types, cheapest first:")
        let rows = e.types.map { t in
            [t.eligible ? "yes" : "no", t.name, String(format: "%.4f/h", t.price), t.reason + (t.blocked.map { "; now: \($0)" } ?? "")]
        }
        for line in TextTable.render(header: ["ELIGIBLE", "TYPE", "PRICE", "WHY"], rows: rows) { print("  " + line) }
    }
}
