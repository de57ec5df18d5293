import APIClient
import Foundation
import PostgresQueue
import Queue
import SQLiteQueue
import TestSupport
import Logging
import Testing

/// The daemon and the queue CLI, as separate processes, as an operator uses them.
@Suite(.serialized) struct QueueCommandTests {  // waits on CLI processes synchronously
    @Test func theCLIDrivesARunningDaemon() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let daemon = try Daemon(stateDir: folder + "/state")
        defer { daemon.stopWithoutWaiting() }
        #expect(await daemon.ready(), "\(daemon.log)")

        let submitted = try await daemon.cli(["submit", "--vcpus", "2", "--ram", "1GiB", "--env", "GREETING=hi", "--max-run-time", "90s",
                                        "--priority", "3", "--", "sh", "-c", "echo $GREETING"])
        #expect(submitted.status == 0, "\(submitted.output)")
        let uuid = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(UUIDGenerator.isWellFormed(uuid), "\(submitted.output)")

        let shown = try await daemon.cli(["show", uuid])
        let record = try ContainerCodec.decoder.decode(Container.self, from: Data(shown.stdout.utf8))
        #expect(record.command == ["sh", "-c", "echo $GREETING"] && record.environment == ["GREETING": "hi"])
        #expect(record.runtimeConstraints.vcpus == 2 && record.runtimeConstraints.ram == 1 << 30)
        #expect(record.schedulingParameters.maxRunTime == 90 && record.priority == 3)

        let table = try await daemon.cli(["ps"])
        #expect(table.status == 0 && table.stdout.contains("UUID") && table.stdout.contains("\(uuid)  Queued  3     2      1GiB"), "\(table.stdout)")

        #expect(try await daemon.cli(["priority", uuid, "9"]).stdout == "\(uuid) priority 9\n")
        #expect(try await daemon.cli(["cancel", uuid, "--reason", "not today"]).stdout == "\(uuid) Cancelled\n")
        #expect(try await daemon.client().get(uuid).runtimeStatus.error == "not today")
        let again = try await daemon.cli(["cancel", uuid])
        #expect(again.status == 1 && again.output.contains("is Cancelled: cancel is not allowed (HTTP 409 invalid_transition)"))

        let batchFile = folder + "/batch.json"
        try #"{"containers": [{"command": ["true"]}, {"command": ["false"], "priority": 2}]}"#.write(toFile: batchFile, atomically: true, encoding: .utf8)
        let batch = try await daemon.cli(["submit", "--file", batchFile])
        #expect(batch.status == 0 && batch.stdout.split(separator: "\n").count == 2, "\(batch.output)")
        let queued = try await daemon.cli(["ps", "--state", "queued", "--json"])
        let list = try ContainerCodec.decoder.decode([Container].self, from: Data(queued.stdout.utf8))
        #expect(list.map(\.command) == [["true"], ["false"]])

        let invalid = try await daemon.cli(["submit", "--vcpus", "0", "--", "true"])
        #expect(invalid.status == 1 && invalid.output.contains("runtime_constraints.vcpus: 0 is below the minimum 1"), "\(invalid.output)")
        let badSize = try await daemon.cli(["submit", "--ram", "lots", "--", "true"])
        #expect(badSize.status != 0 && badSize.output.contains("--ram: \"lots\" is not a size"), "\(badSize.output)")

        #expect(await daemon.stop() == 0, "SIGTERM is a clean stop: \(daemon.log)")
    }

    @Test func aSecondDaemonOnTheSameQueueRefusesToStart() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try Daemon(stateDir: folder + "/state")
        defer { first.stopWithoutWaiting() }
        #expect(await first.ready())
        let second = try Daemon(stateDir: folder + "/state")
        #expect(await second.process.exit() == 1)
        #expect(second.log.contains("is in use by another cloud-dispatch (pid \(first.process.processIdentifier)"), "\(second.log)")
    }

    /// A writer killed with SIGKILL mid-stream loses no committed container and leaves no
    /// half-written one.
    @Test(arguments: ["sqlite", "postgres"])
    func aKilledWriterLosesNothingCommitted(store kind: String) async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let storeArgument: String
        if kind == "sqlite" {
            storeArgument = "sqlite"
        } else {
            storeArgument = try await PostgresScratch.database()
        }
        let pipe = ChildProcess.pipe()
        let writer = try ChildProcess(Harness.cloudDispatch, ["bench", "queue", "--store", storeArgument, "--state-dir", folder,
                                                              "--count", "1000000", "--print-uuids"], output: pipe.write)
        close(pipe.write)  // the child has it: the read end sees the end when the child exits
        // Killed once 300 acknowledgements are out; what it printed is read to the end.
        var printed = ""
        for await chunk in ChildProcess.chunks(of: pipe.read) {
            let enough = printed.split(separator: "\n").count >= 300
            printed += String(decoding: chunk, as: UTF8.self)
            if !enough && printed.split(separator: "\n").count >= 300 { writer.signal(SIGKILL) }
        }
        await writer.exit()
        let acknowledged = printed.split(separator: "\n").filter { $0.count == 30 }.map(String.init)
        #expect(acknowledged.count >= 300)

        let store: any ContainerStore = kind == "sqlite"
            ? try SQLiteContainerStore.open(path: folder + "/queue.sqlite3")  // the lock died with the writer
            : try await PostgresContainerStore.open(url: storeArgument, logger: .init(label: "t") { _ in SwiftLogNoOpLogHandler() })
        var stored: [Container] = []
        var after: String?
        repeat {  // every row decodes: none is half-written
            let page = try await store.list(ContainerQuery(after: after, limit: 1000))
            stored += page.items
            after = page.next
        } while after != nil
        let uuids = Set(stored.map(\.uuid))
        #expect(acknowledged.allSatisfy(uuids.contains), "every acknowledged container survived")
        #expect(stored.count >= acknowledged.count && stored.count <= acknowledged.count + 1,
                "at most the one in flight committed without being printed")
        #expect(stored.allSatisfy { $0.state == .queued && $0.command.first == "bench" })
        await store.close()
    }
}

