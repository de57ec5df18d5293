import DriverHost
import Foundation
import Testing

/// A symbolic link in the plugins folder is followed to its real file, and that file and every
/// folder above it must pass the same ownership and mode rules as the plugins folder.
@Suite struct SymlinkTests {
    /// A folder outside the plugins folder holding a 0755 copy of the loopback driver.
    func target(mode: mode_t) throws -> (TemporaryFolder, String) {
        let outside = TemporaryFolder()
        let file = outside.path + "/libcdd_loopback.so"
        try FileManager.default.copyItem(atPath: BuildProducts.path("libcdd_loopback.so"), toPath: file)
        chmod(file, 0o755)
        chmod(outside.path, mode)
        return (outside, file)
    }

    @Test func refusesALinkIntoAFolderOthersMayWrite() throws {
        let (outside, file) = try target(mode: 0o777)
        defer { outside.remove() }
        let plugins = TemporaryFolder()
        defer { plugins.remove() }
        try FileManager.default.createSymbolicLink(atPath: plugins.path + "/libcdd_loopback.so", withDestinationPath: file)
        let report = makeLoader().loadNow(folder: plugins.path)
        #expect(report.drivers.isEmpty)
        #expect(report.refused.map(\.reason) == [
            "links to \(file), whose folder \(outside.path) is writable by group or others (mode 0777); run chmod go-w",
        ])
    }

    @Test func refusesALinkToAFileOthersMayWrite() throws {
        let (outside, file) = try target(mode: 0o755)
        defer { outside.remove() }
        chmod(file, 0o777)
        let plugins = TemporaryFolder()
        defer { plugins.remove() }
        try FileManager.default.createSymbolicLink(atPath: plugins.path + "/libcdd_loopback.so", withDestinationPath: file)
        let report = makeLoader().loadNow(folder: plugins.path)
        #expect(report.refused.map(\.reason) == ["links to \(file), which is writable by group or others (mode 0777); run chmod go-w"])
    }

    @Test func loadsASafeLinkAndNamesItsRealFile() throws {
        let (outside, file) = try target(mode: 0o755)
        defer { outside.remove() }
        let plugins = TemporaryFolder()
        defer { plugins.remove() }
        let link = plugins.path + "/libcdd_loopback.so"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
        let report = makeLoader().loadNow(folder: plugins.path)
        #expect(report.refused.isEmpty)
        let info = try #require(report.driver(id: "loopback")?.info)
        #expect(info.path == link)
        #expect(info.realPath == file)
    }
}
