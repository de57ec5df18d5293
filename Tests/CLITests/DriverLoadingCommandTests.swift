import Foundation
import TestSupport
import Testing

/// `drivers`, `driver-test` and `drivers install|remove` as an operator runs them, with bad
/// files in the plugins folder: each is refused by name and cause, and the command carries on.
@Suite(.serialized) struct DriverLoadingCommandTests {  // waits on CLI processes synchronously
    static var executable: String { Harness.cloudDispatch }

    func pluginsFolder(_ files: [(String, String)]) throws -> String {
        let folder = Harness.temporaryFolder()
        for (product, name) in files {
            try FileManager.default.copyItem(atPath: Harness.buildFolder + "/" + product, toPath: folder + "/" + name)
            chmod(folder + "/" + name, 0o755)
        }
        return folder
    }

    static let badFiles = [("libfixture_abort_load.so", "libcdd_abort.so"), ("libfixture_block_negotiate.so", "libcdd_hang.so")]

    @Test func driversListsTheGoodDriversAndNamesEachBadFile() throws {
        let folder = try pluginsFolder([("libcdd_loopback.so", "libcdd_loopback.so")] + Self.badFiles)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try Harness.run(Self.executable, ["drivers", "--json", "--plugins", folder, "--load-timeout", "2"])
        #expect(result.status == 0, "\(result.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((json["drivers"] as? [[String: Any]])?.map { $0["id"] as? String } == ["loopback"])
        let refused = try #require(json["refused"] as? [[String: String]])
        #expect(refused == [
            ["path": folder + "/libcdd_abort.so", "reason": "killed by SIGABRT while loading"],
            ["path": folder + "/libcdd_hang.so", "reason": "cdd_negotiate did not return within 2 s"],
        ])
    }

    @Test func driverTestIsNotKilledByAFileItWasNotAskedToUse() throws {
        let folder = try pluginsFolder([("libfixture_misbehave.so", "libcdd_misbehave.so")] + Self.badFiles)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #"{"mode": "ok"}"#.write(toFile: folder + "/c.json", atomically: true, encoding: .utf8)
        let result = try Harness.run(Self.executable, ["driver-test", "--plugins", folder, "--driver", "misbehave", "--config", folder + "/c.json",
                                                       "--load-timeout", "2", "--settle", "1"])
        #expect(result.status == 0 || result.status == 1, "\(result.output)")  // the kit's verdict, not a crash
        #expect(result.output.contains("PASS capabilities"), "\(result.output)")
    }

    @Test func installVetsCopiesAndSaysWhatItReplaced() throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = Harness.buildFolder + "/libfixture_misbehave.so"
        let first = try Harness.run(Self.executable, ["drivers", "install", source, "--plugins", folder])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.stdout == "installed misbehave 0.0.1 (ABI 1.0) as \(folder)/libcdd_misbehave.so\n")
        var info = stat()
        #expect(stat(folder + "/libcdd_misbehave.so", &info) == 0 && info.st_mode & 0o777 == 0o755)
        let again = try Harness.run(Self.executable, ["drivers", "install", source, "--plugins", folder])
        #expect(again.stdout == "installed misbehave 0.0.1 (ABI 1.0) as \(folder)/libcdd_misbehave.so, replacing misbehave 0.0.1\n")
        // A bad file is refused and leaves nothing behind.
        let bad = try Harness.run(Self.executable, ["drivers", "install", Harness.buildFolder + "/libfixture_abort_load.so", "--plugins", folder])
        #expect(bad.status == 1)
        #expect(bad.output.contains("refused: libfixture_abort_load.so: killed by SIGABRT while loading"), "\(bad.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["libcdd_misbehave.so"])
        let removed = try Harness.run(Self.executable, ["drivers", "remove", "misbehave", "--plugins", folder])
        #expect(removed.stdout == "removed \(folder)/libcdd_misbehave.so\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        let missing = try Harness.run(Self.executable, ["drivers", "remove", "misbehave", "--plugins", folder])
        #expect(missing.status == 1)
        #expect(missing.output.contains("cannot remove \(folder)/libcdd_misbehave.so: No such file or directory"))
    }

    @Test func installRefusesAFolderOthersMayWrite() throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        chmod(folder, 0o777)
        let result = try Harness.run(Self.executable, ["drivers", "install", Harness.buildFolder + "/libfixture_misbehave.so", "--plugins", folder])
        #expect(result.status == 1)
        #expect(result.output.contains("plugins folder \(folder) refused: writable by group or others (mode 0777)"), "\(result.output)")
    }
}
