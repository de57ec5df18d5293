import DriverHost
import Foundation
import Logging

/// Builds the shared parts every command needs.
enum Wiring {
    static func logger(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "cloud-dispatch")
    }

    static func loadDrivers(_ options: DriverOptions, logger: Logger) async -> (PluginsFolder, LoadReport) {
        let folder = PluginsFolder.resolve(flag: options.plugins)
        let pool = BlockingPool(name: "driver", threads: 8)
        let loader = DriverLoader(pool: pool, logger: logger, callTimeout: .seconds(options.callTimeout))
        return (folder, await loader.load(folder: folder.path))
    }
}

/// Prints to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
