import JSON

// workers: how instances become workers and how they are watched.
extension ConfigReader {
    mutating func readWorkers(_ value: JSONValue?, into w: inout Configuration.WorkerSettings) {
        if let prefix = string(value?["tag_prefix"]) { w.tagPrefix = prefix }
        if let user = string(value?["ssh_user"]) { w.sshUser = user }
        if let key = path(value?["ssh_key"]), existingFile(key, at: "workers.ssh_key", private: true) { w.sshKey = key }
        if let runtime = string(value?["runtime"]).flatMap(Configuration.WorkerRuntime.init(rawValue:)) { w.runtime = runtime }
        if let runner = path(value?["runner_binary"]), existingFile(runner, at: "workers.runner_binary", private: false) {
            w.runnerBinary = runner
        }
        if let line = string(value?["init_command"]) { w.initCommand = line }
        if let user = string(value?["run_as"]) { w.runAs = user }

        let durations: [(String, WritableKeyPath<Configuration.WorkerSettings, Double>, Bool)] = [
            ("boot_timeout", \.bootTimeout, true), ("probe_timeout", \.probeTimeout, true),
            ("shutdown_retry", \.shutdownRetry, true),
            ("list_grace", \.listGrace, false),  // 0: the cloud's lists are never behind
            ("term_timeout", \.termTimeout, true), ("connect_timeout", \.connectTimeout, true),
            ("command_timeout", \.commandTimeout, true), ("probe_interval", \.probeInterval, true),
            ("poll_interval", \.pollInterval, true),
        ]
        for (key, field, positive) in durations {
            if let t = duration(value?[key], at: "workers.\(key)", positive: positive) { w[keyPath: field] = t }
        }
        if let n = int(value?["max_concurrent_probes"]) { w.maxConcurrentProbes = n }
    }
}
