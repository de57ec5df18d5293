import DriverConformance
import DriverHost
import Foundation
import Testing

extension Harness {
    /// The in-memory fixture backend, loaded from a private plugins folder.
    static func memexec(timeout: Duration = .seconds(30)) throws -> NativeExecutor {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: buildFolder + "/libfixture_executor.so", toPath: folder + "/libcdx_memexec.so")
        chmod(folder + "/libcdx_memexec.so", 0o755)
        let loader = DriverLoader(pool: BlockingPool(name: "kit-test", threads: 16), logger: quiet, callTimeout: timeout)
        let report = loader.loadNow(folder: folder)
        guard let executor = report.nativeExecutor(id: "memexec") else { throw HarnessError("not loaded: \(report.refused)") }
        return executor
    }
}

/// The executor conformance kit against the in-memory fixture backend: a good backend passes
/// every check, each broken rule fails the check that owns it, and every job the kit submitted
/// is cancelled and released at the end, after a failure or an interruption too.
@Suite struct ExecutorKitTests {
    func kit(_ config: String = "{}", executor: NativeExecutor? = nil) throws -> ExecutorKit {
        var kit = ExecutorKit(executor: try executor ?? Harness.memexec(), config: config)
        kit.dispatcherID = "kit-" + UUID().uuidString.prefix(8).lowercased()
        kit.settle = .seconds(30)
        kit.cleanupDeadline = .seconds(30)
        kit.retryDelay = RetryDelay(initial: .milliseconds(20), cap: .milliseconds(200))
        return kit
    }

    /// What is left listed under the kit's dispatcher id (the fixture keeps jobs per process).
    func remaining(_ kit: ExecutorKit) async throws -> [BackendJob] {
        let backend = try await kit.executor.openNativeBackend(dispatcherID: kit.dispatcherID, config: "{}")
        defer { Task { await backend.close() } }
        return try await backend.list(tags: [:])
    }

    @Test func aGoodBackendPassesEveryCheck() async throws {
        let kit = try kit()
        let report = await kit.run()
        #expect(report.succeeded && report.failed == 0 && report.skipped == 0, "\(report.table())")
        #expect(report.kind == "executor" && report.driver == "memexec")
        for name in ["capacity is well-formed", "true: listed, then ended exited 0", "exit code 3 is recorded exactly", "idempotent re-submit",
                     "cancel a running job", "8 concurrent clients", "log_tail", "release forgets an ended job", "cleanup"] {
            #expect(report.check(name)?.outcome == .pass, "\(name): \(report.check(name)?.detail ?? "missing")")
        }
        #expect(report.table().hasPrefix("executor memexec\n"))
        #expect(try await remaining(kit).isEmpty)
    }

    @Test func aBackendThatIgnoresTokensFailsTheIdempotencyCheck() async throws {
        let kit = try kit(#"{"mode": "ignore_token"}"#)
        let report = await kit.run()
        let check = try #require(report.check("idempotent re-submit"))
        #expect(check.outcome == .fail && check.detail.contains("then job"), "\(check.detail)")
        #expect(report.check("cleanup")?.outcome == .pass, "both of the token's jobs are cancelled and released: \(report.table())")
        #expect(try await remaining(kit).isEmpty)
    }

    @Test func aCancelThatDoesNothingFailsAndIsNamedAsLeftOver() async throws {
        var kit = try kit(#"{"mode": "cancel_ignored"}"#)
        // The ignored cancel fails only once the settle time is over; 1 s was also too short for
        // the job's start on a busy machine ("still pending", a failure of another kind).
        kit.settle = .seconds(10)
        // Long enough for the cleanup's passes to release every job that does end, on a loaded
        // machine too (with 1 s a starved run gave up after its first pass: 12 leftovers).
        kit.cleanupDeadline = .seconds(15)
        let report = await kit.run()
        let check = try #require(report.check("cancel a running job"))
        #expect(check.outcome == .fail && check.detail.contains("still running"), "\(check.detail)")
        #expect(report.check("cleanup")?.outcome == .fail)
        // The sleep-300 jobs of the token and cancel checks never end: named, exit status non-zero.
        #expect(report.leftovers.count == 2, "\(report.table())")
        #expect(!report.succeeded)
    }

    @Test func anInterruptedRunStillCancelsAndReleasesEverything() async throws {
        var kit = try kit()
        let task = TaskBox()
        kit.progress = { result in
            if result.name == "idempotent re-submit" { task.cancel() }  // Ctrl-C with a sleep 300 running
        }
        let configured = kit
        task.start { await configured.run() }
        let report = await task.value()
        #expect(report.interrupted)
        #expect(report.check("cancel a running job")?.detail == "interrupted")
        #expect(report.check("cleanup")?.outcome == .pass, "\(report.table())")
        #expect(try await remaining(kit).isEmpty)
    }
}
