import DriverHost
import Foundation
import Logging
import Synchronization
import TestSupport

/// Where the build put the drivers and fixtures.
enum BuildProducts {
    static var folder: String { Harness.buildFolder }
    static func path(_ name: String) -> String { folder + "/" + name }
}

/// A private temporary folder, removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init() { path = Harness.temporaryFolder() }

    /// A plugins folder holding copies of build products under new names.
    static func plugins(_ files: [(product: String, as: String)]) throws -> TemporaryFolder {
        let folder = TemporaryFolder()
        for file in files {
            try FileManager.default.copyItem(atPath: BuildProducts.path(file.product), toPath: folder.path + "/" + file.as)
            chmod(folder.path + "/" + file.as, 0o755)
        }
        return folder
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Log lines captured in memory, to check what drivers and the host log.
final class LogCapture: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }
    private let storage = Mutex<[Line]>([])

    var lines: [Line] { storage.withLock { $0 } }
    var logger: Logger { Logger(label: "test") { _ in Handler(capture: self) } }

    func append(_ line: Line) { storage.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            event.metadata?.forEach { all[$0.key] = $0.value }
            capture.append(Line(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
        }
    }
}

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

func makeLoader(threads: Int = 4, timeout: Duration = .seconds(20), logger: Logger = quietLogger) -> DriverLoader {
    DriverLoader(pool: BlockingPool(name: "test-driver", threads: threads), logger: logger, callTimeout: timeout)
}
