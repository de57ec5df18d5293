import Foundation
import TestSupport
import Testing

/// The `cloud-dispatch` executable itself, as an operator runs it.
@Suite(.serialized) struct DriverCommandTests {  // waits on CLI processes synchronously
    static var executable: String { Harness.cloudDispatch }

    func pluginsFolder(_ files: [(String, String)]) throws -> String {
        let folder = Harness.temporaryFolder()
        for (product, name) in files {
            try FileManager.default.copyItem(atPath: Harness.buildFolder + "/" + product, toPath: folder + "/" + name)
            chmod(folder + "/" + name, 0o755)
        }
        return folder
    }

    @Test func driversListsLoadedAndRefusedFilesAsJSON() async throws {
        let folder = try pluginsFolder([("libcdd_loopback.so", "libcdd_loopback.so")])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "junk".write(toFile: folder + "/libcdd_junk.so", atomically: true, encoding: .utf8)
        let result = try await Harness.run(Self.executable, ["drivers", "--json", "--plugins", folder])
        #expect(result.status == 0, "\(result.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let drivers = try #require(json["drivers"] as? [[String: Any]])
        #expect(drivers.map { $0["id"] as? String } == ["loopback"])
        #expect(drivers.first?["abi"] as? String == "1.0")
        #expect((drivers.first?["capabilities"] as? [String: Any])?["simulated"] as? Bool == true)
        let refused = try #require(json["refused"] as? [[String: Any]])
        #expect(refused.map { $0["reason"] as? String } == ["not an ELF shared object"])
        #expect(json["folder_source"] as? String == "--plugins")
    }

    @Test func driversFailsWhenNothingLoads() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try await Harness.run(Self.executable, ["drivers", "--plugins", folder])
        #expect(result.status == 1)
        #expect(result.output.contains("no drivers loaded"))
    }

    @Test func driverTestExplainsAMissingDriverOrConfig() async throws {
        let folder = try pluginsFolder([("libcdd_loopback.so", "libcdd_loopback.so")])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let noConfig = try await Harness.run(Self.executable, ["driver-test", "--plugins", folder, "--driver", "loopback", "--config", folder + "/none.json"])
        #expect(noConfig.status == 2)
        #expect(noConfig.output.contains("cannot read --config \(folder)/none.json"))
        try "{}".write(toFile: folder + "/c.json", atomically: true, encoding: .utf8)
        let noDriver = try await Harness.run(Self.executable, ["driver-test", "--plugins", folder, "--driver", "ec2", "--config", folder + "/c.json"])
        #expect(noDriver.status == 2)
        #expect(noDriver.output.contains("no driver \"ec2\" in \(folder) (loaded: loopback)"))
    }

    @Test func ctrlCDuringDriverTestStillCleansUp() async throws {
        let folder = try pluginsFolder([("libcdd_loopback.so", "libcdd_loopback.so")])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #"{"state_dir": "\#(folder)/state"}"#.write(toFile: folder + "/c.json", atomically: true, encoding: .utf8)
        let errors = ChildProcess.pipe()
        let process = try ChildProcess(Self.executable, ["driver-test", "--plugins", folder, "--driver", "loopback", "--config", folder + "/c.json"],
                                       errors: errors.write)
        close(errors.write)  // the child has it: the read end sees the end when the child exits
        // Interrupt as soon as the kit reports its first instance, then read to the end. Read and
        // signalled on a thread of its own: a hop through a busy cooperative pool let the kit
        // finish before the interrupt (seen in a loaded full run).
        let seen = await withCheckedContinuation { (done: CheckedContinuation<String, Never>) in
            Thread.detachNewThread {
                var seen = ""
                var chunk = errors.read.availableData
                while !chunk.isEmpty {
                    let reported = seen.contains("PASS create count=1")
                    seen += String(decoding: chunk, as: UTF8.self)
                    if !reported && seen.contains("PASS create count=1") { process.signal(SIGINT) }
                    chunk = errors.read.availableData
                }
                done.resume(returning: seen)
            }
        }
        #expect(await process.exit() == 130, "\(seen)")
        #expect(seen.contains("interrupted: cleaning up what this run created"))
        #expect(seen.contains("PASS cleanup"), "\(seen)")
        #expect(Harness.processes(mentioning: folder + "/state").isEmpty, "no sshd left")
    }
}
