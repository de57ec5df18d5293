import DriverHost
import Foundation
import Testing
import TestSupport

/// Executor backends (`libcdx_*.so`) load from the same folder as drivers, by the same rules,
/// each bad file refused with one precise reason.
@Suite struct ExecutorLoaderTests {
    func loadFolder(_ files: [(product: String, as: String)], loader: DriverLoader = makeLoader()) throws -> LoadReport {
        let folder = try TemporaryFolder.plugins(files)
        defer { folder.remove() }
        return loader.loadNow(folder: folder.path)
    }

    func reasons(_ report: LoadReport) -> [String: String] {
        Dictionary(uniqueKeysWithValues: report.refused.map { (($0.path as NSString).lastPathComponent, $0.reason) })
    }

    @Test func loadsAnExecutorBesideADriver() async throws {
        let report = try loadFolder([("libcdd_loopback.so", "libcdd_loopback.so"), ("libfixture_executor.so", "libcdx_memexec.so")])
        #expect(report.refused.isEmpty, "\(report.refused)")
        #expect(report.drivers.map(\.info.id) == ["loopback"])
        let executor = try #require(report.executor(id: "memexec"))
        #expect(executor.info.kind == .executor && executor.info.abi == "1.0" && executor.info.version == "0.0.1")
        #expect(executor.info.path.hasSuffix("/libcdx_memexec.so"))
        #expect(report.driver(id: "memexec") == nil && report.executor(id: "loopback") == nil)
        let capabilities = try await executor.capabilities()
        #expect(capabilities == ExecutorCapabilities(idempotentSubmit: true, images: false, logTail: true))
    }

    @Test func refusesEveryKindOfBadExecutorFile() throws {
        let folder = try TemporaryFolder.plugins([
            ("libfixture_misbehave.so", "libcdx_adriver.so"),
            ("libfixture_executor_major2.so", "libcdx_major2.so"),
            ("libfixture_executor_tiny.so", "libcdx_tiny.so"),
            ("libfixture_executor_nullmember.so", "libcdx_null.so"),
            ("libfixture_executor.so", "libcdx_a.so"),
            ("libfixture_executor.so", "libcdx_b.so"),
        ])
        defer { folder.remove() }
        try "not a library".write(toFile: folder.path + "/libcdx_text.so", atomically: true, encoding: .utf8)
        chmod(folder.path + "/libcdx_text.so", 0o644)
        let report = makeLoader().loadNow(folder: folder.path)
        #expect(report.executors.map(\.info.id) == ["memexec"])
        let found = reasons(report)
        #expect(found["libcdx_text.so"] == "not an ELF shared object")
        #expect(found["libcdx_adriver.so"] == "not a CloudDispatch executor backend (no exported function cdx_negotiate)")
        #expect(found["libcdx_major2.so"] == "executor refused host ABI 1.0 (abi); it was built for another major version")
        #expect(found["libcdx_tiny.so"]?.hasPrefix("function table too small (16 bytes; ABI 1.0 needs at least") == true, "\(found)")
        #expect(found["libcdx_null.so"] == "mandatory member 'submit' is NULL")
        #expect(found["libcdx_b.so"] == "duplicate executor id 'memexec' (already loaded from \(folder.path)/libcdx_a.so)")
        #expect(found.count == 6)
    }

    @Test func aDriverAndAnExecutorMayShareAnID() throws {
        // Separate kinds, separate names: libcdd_ and libcdx_ files never collide.
        let report = try loadFolder([("libfixture_misbehave.so", "libcdd_misbehave.so"), ("libfixture_executor.so", "libcdx_memexec.so")])
        #expect(report.refused.isEmpty)
        #expect(report.usableIDs == ["misbehave"] && report.usableExecutorIDs == ["memexec"])
    }

    @Test func theFolderRulesHoldForExecutors() throws {
        let folder = try TemporaryFolder.plugins([("libfixture_executor.so", "libcdx_memexec.so")])
        defer { folder.remove() }
        chmod(folder.path + "/libcdx_memexec.so", 0o775)
        let report = makeLoader().loadNow(folder: folder.path)
        #expect(report.executors.isEmpty)
        #expect(report.refused.map(\.reason) == ["writable by group or others (mode 0775); run chmod go-w"])
    }

    @Test func vettedInAChildAndLoadedOnlyWhenAskedFor() throws {
        let folder = try TemporaryFolder.plugins([
            ("libfixture_executor.so", "libcdx_memexec.so"), ("libfixture_executor_tiny.so", "libcdx_tiny.so"),
            ("libcdd_loopback.so", "libcdd_loopback.so"),
        ])
        defer { folder.remove() }
        var loader = makeLoader()
        loader.vetter = DriverVetter(executable: Harness.cloudDispatch, deadline: .seconds(10))
        let report = loader.loadNow(folder: folder.path, only: "memexec")
        #expect(report.executors.map(\.info.id) == ["memexec"])
        #expect(report.drivers.isEmpty && report.skipped.map(\.id) == ["loopback"])
        #expect(reasons(report)["libcdx_tiny.so"]?.hasPrefix("function table too small (16 bytes;") == true, "\(report.refused)")
        let other = loader.loadNow(folder: folder.path, only: "loopback")
        #expect(other.executors.isEmpty && other.skippedExecutors.map(\.kind) == [.executor])
        #expect(other.usableExecutorIDs == ["memexec"])
    }

    @Test func aHangingExecutorIsRefusedByTheVettingChildNamingCdxOpen() throws {
        let folder = try TemporaryFolder.plugins([
            ("libfixture_executor_block_open.so", "libcdx_hangs.so"), ("libfixture_executor.so", "libcdx_memexec.so"),
        ])
        defer { folder.remove() }
        var loader = makeLoader()
        loader.vetter = DriverVetter(executable: Harness.cloudDispatch, deadline: .seconds(5))
        let report = loader.loadNow(folder: folder.path)
        #expect(report.executors.map(\.info.id) == ["memexec"])
        #expect(reasons(report) == ["libcdx_hangs.so": "cdx_open did not return within 5 s"])
    }
}
