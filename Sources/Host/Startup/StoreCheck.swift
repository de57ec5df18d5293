import Config
import Foundation
import Logging
import PostgresQueue
import Queue

/// Whether the queue store answers, as `serve` would open it: PostgreSQL is connected to once
/// (URL, sslmode, host, credentials; nothing is changed in the database); the SQLite file, when
/// it exists, must be a file this user can read and write (its folder is `state_dir`, checked
/// by `StateFolder`).
enum StoreCheck {
    static func problems(_ config: Configuration) async -> [SettingProblem] {
        if config.queue.store == "sqlite" {
            let path = config.sqlitePath
            var info = stat()
            guard stat(path, &info) == 0 else { return [] }
            if info.st_mode & S_IFMT != S_IFREG { return [SettingProblem("queue.store", "\(path) is not a file")] }
            if access(path, R_OK | W_OK) != 0 { return [SettingProblem("queue.store", "\(path) is not readable and writable by this user")] }
            return []
        }
        do {
            try await PostgresContainerStore.probe(url: config.queue.store, logger: Logger(label: "check-config") { _ in SwiftLogNoOpLogHandler() })
            return []
        } catch {
            return [SettingProblem("queue.store", problemText(error))]
        }
    }

    /// The store's own message, without the "queue store unavailable" prefix the key already says.
    static func problemText(_ error: QueueError) -> String {
        if case .unavailable(let message) = error { return message }
        return "\(error)"
    }
}
