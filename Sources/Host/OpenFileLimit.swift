import API
import Config
import Foundation
import Logging

/// The open-file limit against what the configuration may hold open at once: every API
/// connection and every instance's SSH connection is a file descriptor. Past the limit `accept`
/// fails with EMFILE and the API stops answering altogether (even /_health); under it, the
/// connection cap answers a clear 503 instead.
///
///     let maxConnections = OpenFileLimit.check(settings, logger: logger)   // at start
enum OpenFileLimit {
    /// Descriptors besides API connections and SSH sessions: the store, the driver and its
    /// cloud calls, the log, the listening socket.
    static let reserve = 128
    /// The fewest API connections the cap is lowered to, however low the limit.
    static let fewestConnections = 16

    static func needed(_ settings: Configuration) -> Int {
        settings.api.maxConnections + settings.scheduling.limits.maxInstances + reserve
    }

    /// Raises the soft limit as far as needed (never past the hard limit). When it stays too
    /// low, warns and returns a connection cap that fits under it; else `api.max_connections`.
    static func check(_ settings: Configuration, logger: Logger) -> Int {
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return settings.api.maxConnections }
        let needed = rlim_t(needed(settings))
        if limit.rlim_cur < needed {
            var raised = limit
            raised.rlim_cur = min(needed, limit.rlim_max)
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        guard limit.rlim_cur < needed else { return settings.api.maxConnections }
        let fits = max(Int(limit.rlim_cur) - settings.scheduling.limits.maxInstances - reserve, fewestConnections)
        logger.warning(
            "the open-file limit is too low for this configuration: the API serves fewer connections at once",
            metadata: [
                "limit": "\(limit.rlim_cur)", "needed": "\(needed)", "api.max_connections": "\(settings.api.maxConnections)",
                "scheduling.max_instances": "\(settings.scheduling.limits.maxInstances)", "serving_at_most": "\(fits)",
                "fix": "raise LimitNOFILE (systemd) or ulimit -n, or lower api.max_connections",
            ])
        return fits
    }
}

extension ConnectionLimits {
    /// The `api:` settings of the configuration file, with the connection cap given.
    init(_ api: Configuration.APISettings, maxConnections: Int) {
        self.init(
            readTimeout: .milliseconds(Int64(api.readTimeout * 1000)), idleTimeout: .milliseconds(Int64(api.idleTimeout * 1000)),
            maxConnections: maxConnections)
    }
}
