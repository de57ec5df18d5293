import Config
import JSON
import Testing

/// `executor:`: an executor backend as the pool, exclusive with `driver:`.
@Suite struct ExecutorConfigTests {
    @Test func readsEverySettingOfTheSection() throws {
        let c = try #require(
            config(
                """
                executor:
                  name: slurm
                  config: {cluster: main, account: lab}
                  partitions: [batch, long]
                  cancel_grace: 1m
                  call_timeout: 20s
                  poll_interval: 2s
                  max_submits_per_round: 8
                  max_jobs: 100
                """))
        let e = try #require(c.executor)
        #expect(e.name == "slurm" && e.partitions == ["batch", "long"])
        #expect(e.config == .object(["cluster": .string("main"), "account": .string("lab")]))
        #expect(e.cancelGrace == 60 && e.callTimeout == 20 && e.pollInterval == 2)
        #expect(e.maxSubmitsPerRound == 8 && e.maxJobs == 100)
    }

    @Test func defaults() throws {
        let e = try #require(config("executor: {name: local}")?.executor)
        #expect(e.config == .object([:]) && e.partitions.isEmpty && e.maxJobs == nil)
        #expect(e.cancelGrace == 30 && e.callTimeout == 60 && e.pollInterval == 5 && e.maxSubmitsPerRound == 32)
    }

    @Test func neitherDriverNorExecutorKeepsTheLoopbackDriver() throws {
        let c = try #require(config("dispatcher_id: d1"))
        #expect(c.executor == nil && c.driver.name == "loopback")
    }

    @Test func bothDriverAndExecutorIsAnError() {
        let found = problems("driver: {name: sim}\nexecutor: {name: slurm}")
        #expect(
            found == [
                "executor: driver and executor are both set; a daemon's pool is either a cloud driver's VMs or an executor backend: keep one"
            ], "\(found)")
    }

    @Test func refusesWhatTheSchemaOrTheReaderCannotTake() {
        #expect(problems("executor: {config: {}}").contains { $0.hasPrefix("executor.name") && $0.contains("required") })
        #expect(problems("executor: {name: slurm, call_timeout: 0.5}") == ["executor.call_timeout: must be at least 1s"])
        #expect(problems("executor: {name: slurm, partitions: [a, a]}") == ["executor.partitions: a partition is listed twice"])
        #expect(!problems("executor: {name: slurm, colour: blue}").isEmpty)
    }

    @Test func aDumpLoadsBackWithTheExecutorAndNoDriver() throws {
        let c = try #require(config("executor: {name: slurm, partitions: [batch], max_jobs: 4}"))
        let again = try #require(config(ConfigLoader.dump(c)), "\(ConfigLoader.dump(c))")
        #expect(again.executor == c.executor)
    }

    @Test func changingTheExecutorNeedsARestart() throws {
        let running = try #require(config("executor: {name: slurm, partitions: [batch]}"))
        let new = try #require(config("executor: {name: slurm, partitions: [long]}"))
        #expect(ReloadRules.needingRestart(running, new) == ["executor"])
        #expect(ReloadRules.needingRestart(running, running) == [])
    }
}
