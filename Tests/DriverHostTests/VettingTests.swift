import DriverHost
import Foundation
import Testing
import TestSupport

/// Vetted loading: every file is tried in a child process (`cloud-dispatch driver-vet`) before it
/// enters this one; a file that crashes or hangs there is refused by name and cause, and the
/// good drivers beside it still load.
@Suite struct VettingTests {
    func vettingLoader(deadline: Duration = .seconds(3), logger: LogCapture? = nil) -> DriverLoader {
        var loader = makeLoader(logger: logger?.logger ?? quietLogger)
        loader.vetter = DriverVetter(executable: Harness.cloudDispatch, deadline: deadline)
        return loader
    }

    @Test func refusesCrashingAndHangingFilesAndLoadsTheRest() throws {
        let folder = try TemporaryFolder.plugins([
            ("libcdd_loopback.so", "libcdd_loopback.so"),
            ("libfixture_abort_load.so", "libcdd_abort.so"),
            ("libfixture_block_negotiate.so", "libcdd_hangs_negotiate.so"),
            ("libfixture_block_open.so", "libcdd_hangs_open.so"),
        ])
        defer { folder.remove() }
        let log = LogCapture()
        let report = vettingLoader(logger: log).loadNow(folder: folder.path)
        #expect(report.drivers.map(\.info.id) == ["loopback"])
        let reasons = Dictionary(uniqueKeysWithValues: report.refused.map { (($0.path as NSString).lastPathComponent, $0.reason) })
        #expect(reasons == [
            "libcdd_abort.so": "killed by SIGABRT while loading",
            "libcdd_hangs_negotiate.so": "cdd_negotiate did not return within 3 s",
            "libcdd_hangs_open.so": "cdd_open did not return within 3 s",
        ])
        // Each file is named in the log before anything touches it.
        let checked = log.lines.filter { $0.message == "checking driver file" }.compactMap { $0.metadata["path"] }
        #expect(checked.map { ($0 as NSString).lastPathComponent }
                == ["libcdd_abort.so", "libcdd_hangs_negotiate.so", "libcdd_hangs_open.so", "libcdd_loopback.so"])
    }

    @Test func refusalsInTheChildKeepTheirReasons() throws {
        let folder = try TemporaryFolder.plugins([("libfixture_major2.so", "libcdd_major2.so"), ("libfixture_tiny.so", "libcdd_tiny.so")])
        defer { folder.remove() }
        let report = vettingLoader().loadNow(folder: folder.path)
        #expect(report.drivers.isEmpty)
        let reasons = report.refused.map(\.reason)
        #expect(reasons.count == 2)
        #expect(reasons.contains { $0.hasPrefix("driver refused host ABI") })
        #expect(reasons.contains { $0.hasPrefix("function table too small") })
    }

    @Test func loadsOnlyTheDriverAskedFor() throws {
        let folder = try TemporaryFolder.plugins([
            ("libcdd_loopback.so", "libcdd_loopback.so"),
            ("libfixture_misbehave.so", "libcdd_misbehave.so"),
            ("libfixture_abort_load.so", "libcdd_abort.so"),
        ])
        defer { folder.remove() }
        let report = vettingLoader().loadNow(folder: folder.path, only: "misbehave")
        #expect(report.drivers.map(\.info.id) == ["misbehave"])
        #expect(report.skipped.map(\.id) == ["loopback"])
        #expect(report.usableIDs == ["loopback", "misbehave"])
        #expect(report.refused.map(\.reason) == ["killed by SIGABRT while loading"])
    }
}
