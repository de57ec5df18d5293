import Foundation
import Testing
import TestSupport

/// What a worker keeps to itself (issue 11, hole 4): the runner's state folder and every file
/// of a record are its own, and a container run with `run_as` gets that user's ids, no
/// supplementary group, and no way into other containers' specs.
@Suite(.serialized) struct PrivacyContractTests {
    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }

    @Test func anOpenStateFolderIsClosedAndRecordFilesAreTheRunnersOnly() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        // A state folder left open by an older runner or an operator.
        try FileManager.default.createDirectory(atPath: node.stateFolder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        chmod(node.stateFolder, 0o755)
        try await node.detach("private-1", ["sh", "-c", "echo out"], ["environment": ["API_KEY": "s3cret"]])
        #expect(await node.waitFor("private-1 done"))

        #expect(Self.mode(node.stateFolder) == 0o700, "state folder mode \(String(Self.mode(node.stateFolder), radix: 8))")
        let files = try FileManager.default.contentsOfDirectory(atPath: node.stateFolder)
        #expect(Set(files) == ["private-1.lock", "private-1.spec.json", "private-1.log", "private-1.result.json"], "\(files)")
        for file in files {
            let mode = Self.mode(node.stateFolder + "/" + file)
            #expect(mode & 0o077 == 0, "\(file) has mode \(String(mode, radix: 8))")
        }
    }

    /// A user other than root for `run_as`: `nobody`, else one made for the tests.
    static func otherUser() async throws -> (name: String, uid: Int, gid: Int) {
        if getpwnam("nobody") == nil {
            _ = try await Harness.run("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "nobody"])
        }
        let entry = try #require(getpwnam("nobody"), "no user nobody, and useradd could not make one")
        return ("nobody", Int(entry.pointee.pw_uid), Int(entry.pointee.pw_gid))
    }

    @Test(.enabled(if: getuid() == 0, "SKIPPED: switching users needs root; run the runner tests as root to check run_as"))
    func runAsRunsThePlainProcessAsThatUserAwayFromOtherSpecs() async throws {
        let user = try await Self.otherUser()
        let node = RunnerNode()
        defer { node.cleanup() }
        chmod(node.root, 0o755)  // so only the runner's own modes stand between the user and the specs
        let secret = "s3cret-\(UInt64.random(in: 1...UInt64.max))"
        try await node.detach("other-1", ["sh", "-c", "true"], ["environment": ["API_KEY": secret]])
        #expect(await node.waitFor("other-1 done"))

        let spec = node.stateFolder + "/other-1.spec.json"
        let script = "id -u; id -g; id -G; echo cwd=$(pwd) home=$HOME; cat \(spec); echo cat=$?; ls \(node.stateFolder); echo ls=$?"
        try await node.detach("guest-1", ["sh", "-c", script], ["run_as": user.name])
        #expect(await node.waitFor("guest-1 done"))
        let status = try await node.status("guest-1")
        let log = status["log_tail"] as? String ?? ""
        #expect(status["exit_code"] as? Int == 0, "\(status)")
        #expect(log.hasPrefix("\(user.uid)\n\(user.gid)\n\(user.gid)\ncwd=/ home="), "ids, groups and folder: \(log)")
        #expect(log.contains("cat=1") && log.contains("ls=2") && log.contains("Permission denied"), "\(log)")
        #expect(!log.contains(secret), "the other container's environment leaked: \(log)")
        // The runner, not the container, writes the log.
        let owner = try FileManager.default.attributesOfItem(atPath: node.stateFolder + "/guest-1.log")[.ownerAccountID] as? Int
        #expect(owner == 0)
    }

    @Test func anUnknownRunAsUserEndsTheContainerWithAReason() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        try await node.detach("ghost-1", ["true"], ["run_as": "no-such-user-cdd"])
        #expect(await node.waitFor("ghost-1 done"))
        let status = try await node.status("ghost-1")
        #expect(status["exit_code"] is NSNull)
        #expect(status["reason"] as? String == "cannot run as no-such-user-cdd: no such user on this node", "\(status)")
        let bad = try await node.run(["--detach"], stdin: RunnerNode.spec("ghost-2", ["true"], ["run_as": "x y"]))
        #expect(bad.status == 2 && bad.stderr.contains("\"run_as\" must be a user name or uid[:gid]"), "\(bad)")
    }
}
