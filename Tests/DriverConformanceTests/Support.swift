import DriverHost
import Foundation
import Logging
@_exported import TestSupport

/// Loading the build's drivers for tests.
extension Harness {
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Loads one build product as a driver, from a private plugins folder.
    static func load(_ product: String, as name: String, timeout: Duration = .seconds(30)) throws -> NativeDriver {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: buildFolder + "/" + product, toPath: folder + "/" + name)
        chmod(folder + "/" + name, 0o755)
        let loader = DriverLoader(pool: BlockingPool(name: "kit-test", threads: 8), logger: quiet, callTimeout: timeout)
        let report = loader.loadNow(folder: folder)
        guard let driver = report.drivers.first else { throw HarnessError("not loaded: \(report.refused)") }
        return driver
    }

    static func loopback() throws -> NativeDriver { try load("libcdd_loopback.so", as: "libcdd_loopback.so") }
}

let smallType = InstanceTypeSpec(name: "local", providerType: "local", vcpus: 1, ram: 1 << 30, price: 0)
