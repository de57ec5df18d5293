import Config
import Scheduler
import Testing

@Suite struct ReloadRulesTests {
    let running = Configuration(stateDir: "/var/lib/cd")

    @Test func typesSchedulingAndWorkerTimeoutsApply() {
        var new = running
        new.instanceTypes = [InstanceType(name: "big", vcpus: 64, ram: 256 << 30, price: 4)]
        new.scheduling.maxPriceFactor = 3
        new.scheduling.limits.maxInstances = 7
        (new.workers.bootTimeout, new.workers.probeTimeout, new.workers.shutdownRetry) = (1, 2, 3)
        (new.workers.listGrace, new.workers.termTimeout, new.workers.probeInterval) = (4, 5, 6)
        #expect(ReloadRules.applied(new, over: running) == new)
        #expect(ReloadRules.needingRestart(running, new) == [])
    }

    /// `term_timeout` reached the pool on reload but was reported as needing a restart and not
    /// kept as current: two lists of what a reload changes had drifted apart.
    @Test func termTimeoutIsReloadable() {
        var new = running
        new.workers.termTimeout = 30
        #expect(ReloadRules.needingRestart(running, new) == [])
        #expect(ReloadRules.applied(new, over: running).workers.termTimeout == 30)
    }

    @Test func everythingElseWaitsForARestartAndKeepsItsRunningValue() {
        var new = running
        new.dispatcherID = "other"
        new.listenPort = 9000
        new.stateDir = "/elsewhere"
        new.logFormat = "json"
        new.queue.store = "postgres://db/cd"
        new.api.maxConnections = 10
        new.driver.name = "ec2"
        new.workers.sshUser = "admin"
        new.workers.runtime = .podman
        new.scheduling.limits.idleTimeout = 5  // applies
        #expect(ReloadRules.needingRestart(running, new) == ["dispatcher_id", "listen", "state_dir", "log_format", "queue", "api", "driver", "workers"])
        let applied = ReloadRules.applied(new, over: running)
        var expected = running
        expected.scheduling.limits.idleTimeout = 5
        #expect(applied == expected)
        // Still pending at the next reload of the same file.
        #expect(ReloadRules.needingRestart(applied, new).contains("workers"))
    }
}
