import CoreMetrics
import Foundation
import JSON
import Logging

/// A driver that runs in a host process of its own (`driver.isolation: process`): this
/// executable's hidden `driver-process` subcommand loads the `.so` and serves the same
/// operations over a pipe (`DriverProcessWire`). A crash there costs the calls in flight —
/// they fail `transient` — and the process is started again with back-off, its instance sets
/// opened again; the daemon stays up.
///
///     let driver = try await ProcessDriver.start(path: file, executable: HelperProcess.currentExecutable(),
///                                                callTimeout: .seconds(120), logger: logger).get()
///     let set = try await driver.openInstanceSet(id: "prod-1", config: config)
///     driver.health     // "ok", or "driver process restarted 3 times, last: killed by SIGSEGV at …"
public final class ProcessDriver: CloudDriver {
    public let info: DriverInfo
    let connection: DriverConnection

    /// How the driver process is restarted after it dies.
    public struct RestartPolicy: Sendable {
        /// Wait before the first restart, doubled for each crash in a row.
        public var initialDelay: Duration = .milliseconds(100)
        public var maximumDelay: Duration = .seconds(30)
        /// A process that ran this long before it died starts the doubling over.
        public var stableAfter: Duration = .seconds(60)
        public init() {}
    }

    init(info: DriverInfo, connection: DriverConnection) {
        self.info = info
        self.connection = connection
    }

    /// Starts the driver process for `path` and waits until it has loaded the driver.
    public static func start(
        path: String, executable: String, callTimeout: Duration, restart: RestartPolicy = RestartPolicy(),
        logger: Logger
    ) async -> Result<ProcessDriver, Refusal> {
        let connection = DriverConnection(path: path, executable: executable, callTimeout: callTimeout, restart: restart, logger: logger)
        switch await connection.ensureStarted() {
        case .success(let info): return .success(ProcessDriver(info: info, connection: connection))
        case .failure(let failure): return .failure(Refusal(path: path, reason: failure.reason))
        }
    }

    public func capabilities() async throws(DriverError) -> Capabilities {
        let text = try await connection.call(.capabilities, set: nil, body: nil, driver: info.id)
        let value = try DriverReply.parse(text, driver: info.id, operation: DriverOperation.capabilities)
        return try DriverReply.decode(Capabilities.self, value, driver: info.id, operation: .capabilities)
    }

    public func openInstanceSet(id: String, config: String) async throws(DriverError) -> any InstanceSet {
        guard RequestLimits.isValidSetID(id) else {
            throw DriverError(.invalid, "instance-set id \"\(id.prefix(80))\": \(RequestLimits.setIDRule)", driver: info.id, operation: "open_set")
        }
        _ = try await connection.call(.openSet, set: id, body: config, driver: info.id)
        await connection.remember(set: id, config: config)
        return ProcessInstanceSet(id: id, driverID: info.id, connection: connection)
    }

    /// Times the driver process died.
    public var crashes: Int { get async { await connection.crashes } }

    /// "ok", or how often the driver process died and how it died last.
    public var health: String { get async { await connection.health } }

    /// Stops the driver process (tests; the daemon's exit stops it too).
    public func stop() async { await connection.stop() }
}

/// An instance set opened in a driver process.
public final class ProcessInstanceSet: RawInstanceSet {
    public let id: String
    public let driverID: String
    let connection: DriverConnection

    init(id: String, driverID: String, connection: DriverConnection) {
        self.id = id
        self.driverID = driverID
        self.connection = connection
    }

    public func rawCall(_ operation: DriverOperation, _ requestJSON: String) async throws(DriverError) -> JSONValue {
        let text = try await connection.call(operation, set: id, body: requestJSON, driver: driverID)
        return try DriverReply.parse(text, driver: driverID, operation: operation)
    }

    public func close() async {
        await connection.forget(set: id)
    }
}
