import APIClient
import Foundation
import Logging
import PostgresNIO
import Queue
import TestSupport
import Testing

/// One dispatcher id, one daemon, with two real `cloud-dispatch serve` processes on one
/// PostgreSQL queue: the second is refused naming the first; a daemon that loses its lease
/// acts on nothing until it holds it again.
@Suite(.serialized) struct DispatcherLeaseTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    struct Setup {
        let folder = Harness.temporaryFolder()
        let database: String
        var config: String { folder + "/config.yml" }

        init() async throws {
            database = try await PostgresScratch.database()
            try """
                dispatcher_id: twin
                queue: {store: "\(database)"}
                scheduling: {idle_timeout: 2s}
                \(EndToEndTests.World.shortTimeouts)
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        func daemon(_ name: String) throws -> Daemon {
            try Daemon(stateDir: folder + "/" + name, extra: ["--config", config], dispatch: true)
        }

        /// Instances a test left (the loopback sshds of either daemon).
        func cleanUp() {
            for pid in Harness.processes(mentioning: folder).filter({ Harness.commandLine($0).hasPrefix("sshd") }) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    @Test func aSecondDaemonOnTheSameIDIsRefusedNamingTheFirstUntilTheFirstIsGone() async throws {
        let setup = try await Setup()
        defer { setup.cleanUp() }
        let first = try setup.daemon("a")
        guard await first.ready() else { throw HarnessError("the first daemon did not start: \(first.log)") }

        let second = try setup.daemon("b")
        guard await Harness.eventually(60, { !second.process.isRunning }) else {
            _ = await second.stop()
            await first.crash()
            Issue.record("a second daemon on the same id kept running: \(second.log)")
            return
        }
        #expect(second.process.terminationStatus == 1)
        let host = ProcessInfo.processInfo.hostName
        #expect(second.log.contains("dispatcher id \"twin\" is in use by cloud-dispatch pid \(first.process.processIdentifier) on \(host) since"),
                "\(second.log)")

        await first.crash()  // kill -9: the server drops its session, and the lease with it
        let third = try setup.daemon("b")
        #expect(await third.ready(), "the id stayed taken after its daemon died: \(third.log)")
        #expect(await third.stop() == 0)
    }

    @Test func aDaemonThatLostItsLeaseRunsNothingUntilItHoldsItAgain() async throws {
        let setup = try await Setup()
        defer { setup.cleanUp() }
        let daemon = try setup.daemon("a")
        defer { daemon.stopWithoutWaiting() }
        guard await daemon.ready() else { throw HarnessError("daemon did not start: \(daemon.log)") }
        let client = try daemon.client()
        let marker = setup.folder + "/ran"

        let admin = try Self.client(setup.database)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            try await admin.withTransaction(logger: Self.logger) { db in
                // The lease table held: the daemon cannot take its lease back until this ends.
                try await db.query("LOCK TABLE dispatcher_leases IN ACCESS EXCLUSIVE MODE", logger: Self.logger)
                try await db.query("""
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cloud-dispatch lease twin'
                    """, logger: Self.logger)
                #expect(await Harness.eventually(60) { (try? await Self.health(client)["lease"])?.hasPrefix("lease on dispatcher id twin lost") == true },
                        "the lost lease is not in /_health: \(daemon.log)")
                #expect(try await Self.health(client)["status"] == "degraded")

                let uuid = try await client.submit([ContainerSpec(command: ["sh", "-c", "touch \(marker)"])])[0].uuid
                let skipped = try await Self.roundsSkipped(client)
                #expect(await Harness.eventually(60) { (try? await Self.roundsSkipped(client)) ?? 0 >= skipped + 2 }, "rounds kept running")
                #expect(try await client.get(uuid).state == .queued, "a container was dispatched without the lease")
                #expect(!FileManager.default.fileExists(atPath: marker))
            }
            #expect(await Harness.eventually(60) { (try? await Self.health(client)["lease"]) == "ok" }, "the lease was not taken back: \(daemon.log)")
            #expect(await Harness.eventually(60) { FileManager.default.fileExists(atPath: marker) }, "the container did not run once the lease was back")
            group.cancelAll()
        }
    }

    static func client(_ url: String) throws -> PostgresClient {
        guard let parts = URLComponents(string: url) else { throw HarnessError("bad URL \(url)") }
        let config = PostgresClient.Configuration(host: parts.host ?? "127.0.0.1", port: parts.port ?? 5432, username: parts.user ?? "postgres",
                                                  password: parts.password, database: String(parts.path.dropFirst()), tls: .disable)
        return PostgresClient(configuration: config, backgroundLogger: logger)
    }

    static func health(_ client: APIClient) async throws -> [String: String] {
        let (_, data) = try await client.raw("GET", "/_health")
        return try JSONDecoder().decode([String: String].self, from: data)
    }

    /// `cloud_dispatch_rounds_skipped_total` from /metrics (0 before the first).
    static func roundsSkipped(_ client: APIClient) async throws -> Int {
        let (_, data) = try await client.raw("GET", "/metrics")
        return Int(value(String(decoding: data, as: UTF8.self), "cloud_dispatch_rounds_skipped_total") ?? 0)
    }
}
