import DriverConformance
import DriverHost
import Testing

/// Cleanup against a cloud that throttles: it must retry until everything is gone, or name
/// every instance it could not destroy and fail at its deadline.
@Suite struct KitCleanupTests {
    static let misbehave = "libfixture_misbehave.so"

    /// A run of the fixture interrupted (Ctrl-C) with 4 instances up, fx-1 … fx-4: the
    /// checks that destroy never run, so every destroy it sees is cleanup's.
    static func interruptedRun(config: String, deadline: Duration = .seconds(30)) async throws -> ConformanceReport {
        var kit = ConformanceKit(driver: try Harness.load(misbehave, as: "libcdd_misbehave.so"), config: config)
        kit.cleanupDeadline = deadline
        kit.retryDelay = RetryDelay(initial: .milliseconds(10), cap: .milliseconds(100))
        let task = TaskBox()
        kit.progress = { result in
            if result.name == "create count=3" { task.cancel() }
        }
        let configured = kit
        task.start { await configured.run() }
        return await task.value()
    }

    @Test(arguments: ["throttle_destroy", "transient_destroy"])
    func cleanupRetriesUntilTheDestroysGoThrough(mode: String) async throws {
        let report = try await Self.interruptedRun(config: #"{"mode": "\#(mode)", "refusals": 3, "retry_after_ms": 20}"#)
        let cleanup = try #require(report.check("cleanup"))
        #expect(cleanup.outcome == .pass, "\(report.table())")
        #expect(cleanup.detail == "4 leftover instances destroyed; none remain (3 retries)", "\(report.table())")
        #expect(report.leftovers.isEmpty)
    }

    @Test func cleanupNamesEveryLeftoverAndFailsAtItsDeadline() async throws {
        let deadline = Duration.seconds(1)
        let report = try await Self.interruptedRun(config: #"{"mode": "throttle_destroy", "refusals": -1, "retry_after_ms": 50}"#,
                                                   deadline: deadline)
        let cleanup = try #require(report.check("cleanup"))
        #expect(cleanup.outcome == .fail)
        #expect(cleanup.detail.hasPrefix("4 instances left: fx-1 fx-2 fx-3 fx-4"), "\(cleanup.detail)")
        #expect(cleanup.detail.contains("rate_limit"), "the last refusal is named: \(cleanup.detail)")
        // It kept trying until the deadline. That it then stopped is shown by the run returning
        // at all; an upper bound on the time was a guess a loaded machine overran (15 s).
        #expect(cleanup.seconds >= 1, "\(cleanup.seconds) s")
        #expect(report.leftovers == ["fx-1", "fx-2", "fx-3", "fx-4"])
        #expect(!report.succeeded)
        let table = report.table()
        for id in report.leftovers { #expect(table.contains("\nLEFTOVER \(id)\n"), "\(table)") }
    }

    @Test func anInstanceThatStaysListedIsALeftover() async throws {
        var kit = ConformanceKit(driver: try Harness.load(Self.misbehave, as: "libcdd_misbehave.so"), config: #"{"mode": "destroy_keeps"}"#)
        kit.settle = .milliseconds(200)
        kit.cleanupDeadline = .milliseconds(300)
        kit.retryDelay = RetryDelay(initial: .milliseconds(10), cap: .milliseconds(50))
        let report = await kit.run()
        let listAfter = try #require(report.check("list after destroy"))
        #expect(listAfter.outcome == .fail, "\(report.table())")
        #expect(listAfter.detail.contains("removal not seen in list"), "\(listAfter.detail)")
        #expect(report.check("cleanup")?.outcome == .fail)
        #expect(!report.leftovers.isEmpty)
    }
}

@Suite struct RetryDelayTests {
    let backoff = RetryDelay(initial: .milliseconds(100), cap: .seconds(1))

    @Test func doublesFromTheInitialWaitUpToTheCap() {
        #expect((0..<6).map { backoff.delay(attempt: $0, hint: nil) }
                == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        #expect(backoff.delay(attempt: 1_000, hint: nil) == .seconds(1))
    }

    @Test func theDriversRetryAfterWinsWithinTheCap() {
        #expect(backoff.delay(attempt: 5, hint: .milliseconds(30)) == .milliseconds(30))
        #expect(backoff.delay(attempt: 0, hint: .seconds(60)) == .seconds(1))
    }
}
