/// What a configuration reload (SIGHUP) may change while the daemon runs, and what waits for the
/// next start. The host applies the reloadable parts to the running dispatcher; this is the one
/// list of which parts those are.
///
///     let pending = ReloadRules.needingRestart(running, reread)  // ["listen", "workers"]
///     running = ReloadRules.applied(reread, over: running)
///
/// Reloadable: `instance_types`, all of `scheduling`, and the `workers` timeouts and intervals
/// below. Everything else (dispatcher_id, listen, state_dir, log_format, queue, api, driver, the
/// other workers keys) is read at start only.
public enum ReloadRules {
    /// The running configuration after a reload: the reloadable parts of `new` over `running`.
    /// What needs a restart keeps its running value, so a later reload still reports it.
    public static func applied(_ new: Configuration, over running: Configuration) -> Configuration {
        var c = running
        c.instanceTypes = new.instanceTypes
        c.scheduling = new.scheduling
        c.workers = reloadableWorkers(from: new.workers, into: running.workers)
        return c
    }

    /// Top-level keys (and `workers` as a whole) that differ between `running` and `new` but
    /// take effect only at the next start.
    public static func needingRestart(_ running: Configuration, _ new: Configuration) -> [String] {
        var keys: [String] = []
        if running.dispatcherID != new.dispatcherID { keys.append("dispatcher_id") }
        if running.listenHost != new.listenHost || running.listenPort != new.listenPort { keys.append("listen") }
        if running.stateDir != new.stateDir { keys.append("state_dir") }
        if running.logFormat != new.logFormat { keys.append("log_format") }
        if running.queue != new.queue { keys.append("queue") }
        if running.api != new.api { keys.append("api") }
        if running.driver != new.driver { keys.append("driver") }
        if running.executor != new.executor { keys.append("executor") }
        if reloadableWorkers(from: running.workers, into: new.workers) != running.workers { keys.append("workers") }
        return keys
    }

    /// The worker settings a reload applies: the pool's timeouts and intervals, which it reads
    /// every round. SSH, runner, runtime and tag settings are fixed when workers are set up.
    static func reloadableWorkers(
        from new: Configuration.WorkerSettings, into old: Configuration.WorkerSettings
    )
        -> Configuration.WorkerSettings
    {
        var w = old
        w.bootTimeout = new.bootTimeout
        w.probeTimeout = new.probeTimeout
        w.shutdownRetry = new.shutdownRetry
        w.listGrace = new.listGrace
        w.termTimeout = new.termTimeout
        w.probeInterval = new.probeInterval
        return w
    }
}
