import API
import Config
import Foundation
import Logging

/// The open-file limit against what the configuration may hold open at once: every API
/// connection and every instance's SSH connection is a file descriptor. Below it, `accept`
/// fails with EMFILE and the API stops answering altogether (even /_health).
///
///     OpenFileLimit.check(settings, logger: logger)   // at start, before the API listens
enum OpenFileLimit {
    /// Descriptors besides API connections and SSH sessions: the store, the driver and its
    /// cloud calls, the log, the listening socket.
    static let reserve = 128

    static func needed(_ settings: Configuration) -> Int {
        settings.api.maxConnections + settings.scheduling.maxInstances + reserve
    }

    /// Raises the soft limit as far as needed (never past the hard limit), and warns when it
    /// stays too low.
    static func check(_ settings: Configuration, logger: Logger) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let needed = rlim_t(needed(settings))
        if limit.rlim_cur < needed {
            var raised = limit
            raised.rlim_cur = min(needed, limit.rlim_max)
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        guard limit.rlim_cur < needed else { return }
        logger.warning("the open-file limit is too low for this configuration: the API may stop accepting connections", metadata: [
            "limit": "\(limit.rlim_cur)", "needed": "\(needed)", "api.max_connections": "\(settings.api.maxConnections)",
            "scheduling.max_instances": "\(settings.scheduling.maxInstances)",
            "fix": "raise LimitNOFILE (systemd) or ulimit -n, or lower api.max_connections",
        ])
    }
}

extension ConnectionLimits {
    /// The `api:` settings of the configuration file.
    init(_ api: Configuration.APISettings) {
        self.init(readTimeout: .milliseconds(Int64(api.readTimeout * 1000)), idleTimeout: .milliseconds(Int64(api.idleTimeout * 1000)),
                  maxConnections: api.maxConnections)
    }
}
