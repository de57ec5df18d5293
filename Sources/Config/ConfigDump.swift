import Foundation
import JSON
import Scheduler
import Units

extension ConfigLoader {
    /// The effective configuration as YAML, every default filled in, for an operator to read
    /// before it runs. Loading it back gives an equal configuration, except that token
    /// secrets, a postgres password and driver.config members that look secret are not shown;
    /// unset optional settings appear as comments saying what the host does instead.
    public static func dump(_ config: Configuration) -> String {
        var y = YAMLWriter()
        y.comment("cloud-dispatch: the effective configuration (every default filled in)")
        y.line("dispatcher_id", y.string(config.dispatcherID))
        let host = config.listenHost.contains(":") ? "[\(config.listenHost)]" : config.listenHost
        y.line("listen", y.string("\(host):\(config.listenPort)"))
        y.line("state_dir", y.string(config.stateDir))
        y.line("log_format", config.logFormat)
        y.section("queue") { y in
            y.line("store", y.string(redactedStore(config.queue.store)))
            y.line("max_dispatch_attempts", "\(config.queue.maxDispatchAttempts)")
            y.line("takeover_after", Units.describe(seconds: config.queue.takeoverAfter))
        }
        y.section("api") { y in
            y.line("max_body_bytes", "\(config.api.maxBodyBytes)")
            y.line("read_timeout", Units.describe(seconds: config.api.readTimeout))
            y.line("idle_timeout", Units.describe(seconds: config.api.idleTimeout))
            y.line("max_connections", "\(config.api.maxConnections)")
            if config.api.tokens.isEmpty {
                y.comment("tokens: none; the daemon makes an admin token in <state_dir>/admin.token")
            } else {
                y.comment("tokens (name and role; where the secrets come from is not shown):")
                for t in config.api.tokens { y.comment("  - {name: \(y.string(t.name)), role: \(y.string(t.role))}") }
            }
        }
        // Exclusive: a dump must load back.
        if let executor = config.executor { dumpExecutor(executor, into: &y) } else { dumpDriver(config, into: &y) }
        y.section("instance_types") { y in
            for t in config.instanceTypes { dumpType(t, into: &y) }
        }
        y.section("scheduling") { y in
            let s = config.scheduling.limits
            y.line("max_price_factor", "\(config.scheduling.maxPriceFactor)")
            y.line("max_instances", "\(s.maxInstances)")
            if let spend = s.maxHourlySpend { y.line("max_hourly_spend", "\(spend)") } else { y.comment("max_hourly_spend: not set (no cap)") }
            y.line("max_concurrent_creates", "\(s.maxConcurrentCreates)")
            y.line("max_containers_per_instance", "\(s.maxContainersPerInstance)")
            y.line("idle_timeout", Units.describe(seconds: s.idleTimeout))
        }
        dumpWorkers(config, into: &y)
        return y.text
    }

    private static func dumpDriver(_ config: Configuration, into y: inout YAMLWriter) {
        let d = config.driver
        y.section("driver") { y in
            y.line("name", y.string(d.name))
            if let plugins = d.plugins { y.line("plugins", y.string(plugins)) } else { y.comment("plugins: not set (the host's default folder)") }
            if let c = d.config {
                y.line("config", y.flow(redactedSecrets(c)))
                let effective = config.effectiveDriverConfig
                if effective != c { y.comment("filled in, the driver gets \(y.flow(redactedSecrets(effective)))") }
            } else {
                y.comment("config: not set; the driver gets \(y.flow(config.effectiveDriverConfig))")
            }
            if let image = d.image { y.line("image", y.string(image)) } else { y.comment("image: not set (the driver's default)") }
            y.line("calls_per_second", "\(d.callsPerSecond)")
            y.line("call_burst", "\(d.callBurst)")
            y.line("isolation", y.string(d.isolation.rawValue))
            y.line("load_timeout", "\(d.loadTimeout)")
            y.line("call_timeout", "\(d.callTimeout)")
        }
    }

    private static func dumpExecutor(_ e: Configuration.ExecutorSettings, into y: inout YAMLWriter) {
        y.section("executor") { y in
            y.line("name", y.string(e.name))
            if let plugins = e.plugins { y.line("plugins", y.string(plugins)) } else { y.comment("plugins: not set (the host's default folder)") }
            y.line("config", y.flow(redactedSecrets(e.config)))
            if e.partitions.isEmpty {
                y.comment("partitions: not set (every partition the backend reports)")
            } else {
                y.line("partitions", y.flow(.array(e.partitions.map { .string($0) })))
            }
            y.line("cancel_grace", Units.describe(seconds: e.cancelGrace))
            y.line("call_timeout", Units.describe(seconds: e.callTimeout))
            y.line("poll_interval", Units.describe(seconds: e.pollInterval))
            y.line("load_timeout", Units.describe(seconds: e.loadTimeout))
            y.line("max_submits_per_round", "\(e.maxSubmitsPerRound)")
            if let n = e.maxJobs { y.line("max_jobs", "\(n)") } else { y.comment("max_jobs: not set (as many as the backend takes)") }
        }
    }

    private static func dumpType(_ t: InstanceType, into y: inout YAMLWriter) {
        y.item { y in
            y.line("name", y.string(t.name))
            y.line("provider_type", y.string(t.providerType))
            y.line("vcpus", "\(t.vcpus)")
            y.line("ram", Units.describe(bytes: t.ram))
            y.line("scratch", Units.describe(bytes: t.scratch))
            y.line("added_scratch", Units.describe(bytes: t.addedScratch))
            if t.gpuCount > 0 {
                y.line("gpu", "{count: \(t.gpuCount), stack: \(y.string(t.gpuStack)), vram: \(Units.describe(bytes: t.gpuVRAM))}")
            }
            y.line("price", "\(t.price)")
            y.line("preemptible", "\(t.preemptible)")
            y.line("quota_group", y.string(t.quotaGroup))
        }
    }

    private static func dumpWorkers(_ config: Configuration, into y: inout YAMLWriter) {
        let w = config.workers
        y.section("workers") { y in
            y.line("tag_prefix", y.string(w.tagPrefix))
            y.line("ssh_user", y.string(w.sshUser) + (w.sshUser.isEmpty ? "  # the driver's user for the instance, else root" : ""))
            if let key = w.sshKey {
                y.line("ssh_key", y.string(key))
            } else {
                y.comment("ssh_key: not set; the host uses \(y.string(config.workerKeyPath)) (made when absent)")
            }
            y.line("runtime", w.runtime.rawValue)
            if let runner = w.runnerBinary {
                y.line("runner_binary", y.string(runner))
            } else {
                y.comment("runner_binary: not set (the one next to the host's executable)")
            }
            if let line = w.initCommand { y.line("init_command", y.string(line)) } else { y.comment("init_command: not set") }
            if let user = w.runAs { y.line("run_as", y.string(user)) } else { y.comment("run_as: not set (containers run as the runner's user)") }
            for (key, seconds) in [
                ("boot_timeout", w.bootTimeout), ("probe_timeout", w.probeTimeout), ("shutdown_retry", w.shutdownRetry),
                ("list_grace", w.listGrace), ("term_timeout", w.termTimeout), ("connect_timeout", w.connectTimeout),
                ("command_timeout", w.commandTimeout), ("probe_interval", w.probeInterval),
            ] {
                y.line(key, Units.describe(seconds: seconds))
            }
            y.line("max_concurrent_probes", "\(w.maxConcurrentProbes)")
            y.line("poll_interval", Units.describe(seconds: w.pollInterval))
        }
    }

    /// A postgres URL without its password.
    static func redactedStore(_ store: String) -> String {
        guard var parts = URLComponents(string: store), parts.password != nil else { return store }
        parts.password = "REDACTED"
        return parts.string ?? "postgres://(unprintable URL)"
    }

    /// Driver configs are opaque, but often carry credentials: members named like one are hidden.
    static func redactedSecrets(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (key, member) in members {
                let lower = key.lowercased()
                let secret = ["secret", "password", "passwd", "token", "private", "credential"].contains { lower.contains($0) }
                out[key] = secret && member != .null ? .string("REDACTED") : redactedSecrets(member)
            }
            return .object(out)
        case .array(let items): return .array(items.map(redactedSecrets))
        default: return value
        }
    }
}
