import DriverHost
import Foundation
import Testing

/// The loader refuses every kind of bad file with one precise reason, and loads good ones.
@Suite struct LoaderTests {
    func loadOne(_ product: String, as name: String, loader: DriverLoader = makeLoader()) throws -> LoadReport {
        let folder = try TemporaryFolder.plugins([(product, name)])
        defer { folder.remove() }
        return loader.loadNow(folder: folder.path)
    }

    @Test func loadsTheLoopbackDriver() throws {
        let report = try loadOne("libcdd_loopback.so", as: "libcdd_loopback.so")
        #expect(report.refused.isEmpty)
        let driver = try #require(report.driver(id: "loopback"))
        #expect(driver.info.abi == "1.0")
        #expect(driver.info.version == "1.0.0")
        #expect(driver.info.path.hasSuffix("/libcdd_loopback.so"))
    }

    @Test func refusesATextFileNamedLikeADriver() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        try "not a library".write(toFile: folder.path + "/libcdd_x.so", atomically: true, encoding: .utf8)
        let report = makeLoader().loadNow(folder: folder.path)
        #expect(report.drivers.isEmpty)
        #expect(report.refused.map(\.reason) == ["not an ELF shared object"])
    }

    @Test func refusesAnELFWithoutEntryPoints() throws {
        let report = try loadOne("libfixture_noentry.so", as: "libcdd_noentry.so")
        #expect(report.drivers.isEmpty)
        #expect(report.refused.map(\.reason) == ["not a CloudDispatch driver (no exported function cdd_negotiate)"])
    }

    @Test func refusesADriverBuiltForMajor2() throws {
        let report = try loadOne("libfixture_major2.so", as: "libcdd_major2.so")
        #expect(report.drivers.isEmpty)
        let reason = try #require(report.refused.first?.reason)
        #expect(reason.contains("driver refused host ABI 1.0 (abi)"), "\(reason)")
    }

    @Test func refusesATooSmallFunctionTable() throws {
        let report = try loadOne("libfixture_tiny.so", as: "libcdd_tiny.so")
        let reason = try #require(report.refused.first?.reason)
        #expect(reason.hasPrefix("function table too small (16 bytes; ABI 1.0 needs at least"), "\(reason)")
    }

    @Test func refusesANullMandatoryMember() throws {
        let report = try loadOne("libfixture_nullmember.so", as: "libcdd_nullmember.so")
        #expect(report.refused.map(\.reason) == ["mandatory member 'create' is NULL"])
    }

    @Test func refusesADuplicateDriverID() throws {
        let folder = try TemporaryFolder.plugins([("libcdd_loopback.so", "libcdd_loopback.so"),
                                                   ("libcdd_loopback.so", "libcdd_loopback_copy.so")])
        defer { folder.remove() }
        let report = makeLoader().loadNow(folder: folder.path)
        #expect(report.drivers.map(\.info.id) == ["loopback"])
        #expect(report.refused.count == 1)
        #expect(report.refused[0].path.hasSuffix("libcdd_loopback_copy.so"))
        #expect(report.refused[0].reason == "duplicate driver id 'loopback' (already loaded from \(folder.path)/libcdd_loopback.so)")
    }

    @Test func refusesAWorldWritableFolder() throws {
        let folder = try TemporaryFolder.plugins([("libcdd_loopback.so", "libcdd_loopback.so")])
        defer { folder.remove() }
        chmod(folder.path, 0o777)
        let report = makeLoader().loadNow(folder: folder.path)
        #expect(report.drivers.isEmpty)
        #expect(report.refused.map(\.reason) == ["plugins folder refused: writable by group or others (mode 0777); run chmod go-w"])
    }

    @Test func refusesAGroupWritableFile() throws {
        let folder = try TemporaryFolder.plugins([("libcdd_loopback.so", "libcdd_loopback.so")])
        defer { folder.remove() }
        chmod(folder.path + "/libcdd_loopback.so", 0o775)
        let report = makeLoader().loadNow(folder: folder.path)
        #expect(report.drivers.isEmpty)
        #expect(report.refused.map(\.reason) == ["writable by group or others (mode 0775); run chmod go-w"])
    }

    @Test func refusesAMissingFolder() {
        let report = makeLoader().loadNow(folder: "/nonexistent/cdd-plugins")
        #expect(report.drivers.isEmpty)
        #expect(report.refused.first?.reason.hasPrefix("plugins folder refused: cannot stat") == true)
    }

    @Test func ignoresFilesNotNamedLikeDrivers() throws {
        let folder = try TemporaryFolder.plugins([("libfixture_major2.so", "libfixture_major2.so")])
        defer { folder.remove() }
        let report = makeLoader().loadNow(folder: folder.path)
        #expect(report.drivers.isEmpty && report.refused.isEmpty)
    }

    // MARK: version skew

    @Test func olderMinorDriverLoadsInANewerHost() throws {
        var loader = makeLoader()
        loader.hostVersion = ABIVersion(major: 1, minor: 3)
        loader.driverTableSize += 64  // a newer host's longer table
        let report = try loadOne("libcdd_loopback.so", as: "libcdd_loopback.so", loader: loader)
        let driver = try #require(report.driver(id: "loopback"))
        #expect(driver.info.abi == "1.0")
    }

    @Test func newerMinorDriverLoadsInAnOlderHostWithoutItsNewMember() throws {
        let report = try loadOne("libfixture_future.so", as: "libcdd_future.so")
        let driver = try #require(report.driver(id: "future"))
        #expect(driver.info.abi == "1.0")
        #expect(driver.reservedSlot(0) == nil, "a 1.1 member must not be set when 1.0 was agreed")
    }

    @Test func newerMinorDriverOffersItsMemberToAMatchingHost() throws {
        var loader = makeLoader()
        loader.hostVersion = ABIVersion(major: 1, minor: 1)
        let report = try loadOne("libfixture_future.so", as: "libcdd_future.so", loader: loader)
        let driver = try #require(report.driver(id: "future"))
        #expect(driver.info.abi == "1.1")
        #expect(driver.reservedSlot(0) != nil)
    }

    // MARK: folder resolution

    @Test func pluginsFolderPrecedence() throws {
        let build = BuildProducts.folder
        #expect(PluginsFolder.resolve(flag: "/a", environment: ["CLOUD_DISPATCH_PLUGINS": "/b"], executableFolder: build)
                == PluginsFolder(path: "/a", source: .flag))
        #expect(PluginsFolder.resolve(flag: nil, environment: ["CLOUD_DISPATCH_PLUGINS": "/b"], executableFolder: build)
                == PluginsFolder(path: "/b", source: .environment))
        #expect(PluginsFolder.resolve(flag: nil, environment: [:], executableFolder: build)
                == PluginsFolder(path: build, source: .besideExecutable))
        #expect(PluginsFolder.resolve(flag: nil, environment: [:], executableFolder: "/opt/cd/bin")
                == PluginsFolder(path: "/opt/cd/lib/cloud-dispatch/drivers", source: .installed))
    }

    @Test func driverLogLinesReachTheHostLogAttributedToTheDriver() throws {
        let capture = LogCapture()
        let report = try loadOne("libfixture_misbehave.so", as: "libcdd_misbehave.so", loader: makeLoader(logger: capture.logger))
        #expect(report.driver(id: "misbehave") != nil)
        let line = try #require(capture.lines.first { $0.message == "fixture misbehave opened" })
        #expect(line.metadata["driver"] == "libcdd_misbehave.so", "logged during cdd_open, before the id is known")
    }
}
