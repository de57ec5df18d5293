import Foundation
import Testing
import TestSupport

/// The runner contract the host depends on (docs/runner.md), end to end against the built
/// binary: every test gets its own `--root` and kills what it started.
/// Serialized: each test waits on runner processes synchronously, and in parallel they held both
/// of the cooperative pool's threads (2 cores), starving the other suites.
@Suite(.serialized) struct ContractTests {
    @Test func lifecycleFromDetachToForget() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let before = Date().timeIntervalSince1970
        // It runs until the test creates `go` in its working folder.
        try await node.detach("life-1", ["sh", "-c", "echo first; echo second >&2; while [ ! -e go ]; do sleep 0.02; done; echo last"],
                        ["cwd": folder])
        #expect(await node.list() == ["life-1"])
        #expect(try await node.status("life-1")["state"] as? String == "running")
        #expect(await Harness.eventually { (try? await node.status("life-1"))?["log_tail"] as? String == "first\nsecond\n" })
        _ = FileManager.default.createFile(atPath: folder + "/go", contents: Data())

        #expect(await node.waitFor("life-1 done"))
        let status = try await node.status("life-1")
        #expect(status["state"] as? String == "done")
        #expect(status["exit_code"] as? Int == 0)
        #expect(status["signal"] is NSNull)
        #expect(status["reason"] is NSNull)
        let started = try #require(status["started_at"] as? Double)
        let finished = try #require(status["finished_at"] as? Double)
        #expect(started >= before - 1 && finished >= started)
        #expect(status["log_tail"] as? String == "first\nsecond\nlast\n")

        #expect(try await node.run(["--forget", "life-1"]).status == 0)
        #expect(await node.list() == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: node.stateFolder) == [])
        #expect(try await node.run(["--forget", "life-1"]).status == 0, "forget is idempotent")
        let unknown = try await node.run(["--status", "life-1"])
        #expect(unknown.status == 1 && unknown.stderr.contains("unknown container UUID"))
    }

    @Test func exitCodesPropagate() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        try await node.detach("exit-7", ["sh", "-c", "exit 7"])
        try await node.detach("self-kill", ["sh", "-c", "kill -USR1 $$"])
        #expect(await node.waitFor("exit-7 done"))
        #expect(await node.waitFor("self-kill done"))
        #expect(try await node.status("exit-7")["exit_code"] as? Int == 7)
        let killed = try await node.status("self-kill")
        #expect(killed["exit_code"] as? Int == 128 + 10 && killed["signal"] as? Int == 10)
    }

    @Test func aSecondStartOfTheSameUUIDIsRefused() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        try await node.detach("twice", ["sleep", "0.5"])
        let live = try await node.run(["--detach"], stdin: RunnerNode.spec("twice", ["true"]))
        #expect(live.status == 3 && live.stderr.contains("already has a record"))
        #expect(await node.waitFor("twice done"))
        #expect(try await node.run(["--detach"], stdin: RunnerNode.spec("twice", ["true"])).status == 3)
        #expect(try await node.run(["--forget", "twice"]).status == 0)
        try await node.detach("twice", ["true"])
    }

    @Test func concurrentStartsOfOneUUIDLetExactlyOneThrough() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        let codes = await withTaskGroup(of: Int32.self) { group in
            for _ in 0..<4 {
                group.addTask { (try? await node.run(["--detach"], stdin: RunnerNode.spec("race", ["sleep", "1"])).status) ?? -1 }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(codes.sorted() == [0, 3, 3, 3])
    }

    @Test(arguments: [
        ("not json", "not valid JSON"),
        (#"["uuid"]"#, "must be a JSON object"),
        (#"{"uuid": "u1", "command": []}"#, "\"command\" must not be empty"),
        (#"{"uuid": "u1"}"#, "\"command\" must be an array of strings"),
        (#"{"uuid": "bad/uuid", "command": ["true"]}"#, "\"uuid\" must match"),
        (#"{"uuid": "", "command": ["true"]}"#, "\"uuid\" must match"),
        (#"{"command": ["true"]}"#, "\"uuid\" must be a string"),
        (#"{"uuid": "u1", "command": ["true"], "runtime": "lxc"}"#, "\"runtime\" must be one of"),
        (#"{"uuid": "u1", "command": ["true"], "max_run_time": -1}"#, "\"max_run_time\""),
        (#"{"uuid": "u1", "command": ["true"], "environment": {"A": 1}}"#, "\"environment\".A must be a string"),
    ])
    func badSpecsAreRefusedWithTheProblemNamed(spec: String, problem: String) async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        let result = try await node.run(["--detach"], stdin: Data(spec.utf8))
        #expect(result.status == 2)
        #expect(result.stderr.contains(problem), "\(result.stderr)")
        #expect(await node.list() == [])
    }

    @Test func killTermEndsTheContainer() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        try await node.detach("to-kill", ["sleep", "60"])
        #expect(await node.kill("TERM", "to-kill"))
        #expect(await node.list() == ["to-kill done"])
        let status = try await node.status("to-kill")
        #expect(status["signal"] as? Int == 15 && status["exit_code"] as? Int == 143)
        #expect(try await node.run(["--kill", "TERM", "to-kill"]).status == 0, "not live: nothing to do")
        #expect(try await node.run(["--kill", "TERM", "never-seen"]).status == 0)
        #expect(try await node.run(["--kill", "BOGUS", "to-kill"]).status == 2)
    }

    @Test func killReportsAContainerThatIgnoresTheSignal() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        try await node.detach("stubborn", ["sh", "-c", "trap '' INT; echo ready; sleep 60"])
        #expect(await Harness.eventually { (try? await node.status("stubborn"))?["log_tail"] as? String == "ready\n" })
        #expect(try await node.run(["--kill", "SIGINT", "stubborn"]).status == 1)
        #expect(await node.list() == ["stubborn"])
        #expect(try await node.run(["--forget", "stubborn"]).status == 3, "a live record is not forgotten")
        #expect(await node.kill("9", "stubborn"))
        #expect(try await node.status("stubborn")["signal"] as? Int == 9)
    }

    @Test func aSupervisorKilledHardLeavesAStaleRecord() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        let token = "60.\(Int.random(in: 100_000...999_999))"
        defer { for pid in Harness.processes(mentioning: token) { kill(pid, SIGKILL) } }
        let supervisor = try await node.detach("orphan", ["sleep", token])
        #expect(kill(supervisor, SIGKILL) == 0)
        #expect(await node.waitFor("orphan stale"))
        let status = try await node.status("orphan")
        #expect(status["state"] as? String == "stale" && status["exit_code"] is NSNull)
        #expect(try await node.run(["--detach"], stdin: RunnerNode.spec("orphan", ["true"])).status == 3)
        #expect(try await node.run(["--forget", "orphan"]).status == 0)
        #expect(await node.list() == [])
    }

    @Test func maxRunTimeEndsTheContainerWithAReason() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        try await node.detach("too-long", ["sleep", "60"], ["max_run_time": 1])
        #expect(await node.list() == ["too-long"])
        #expect(await node.waitFor("too-long done"))
        let status = try await node.status("too-long")
        #expect(status["reason"] as? String == "exceeded max_run_time of 1 s")
        #expect(status["signal"] as? Int == 15)
        let ran = (status["finished_at"] as? Double ?? 0) - (status["started_at"] as? Double ?? 0)
        #expect(ran >= 1 && ran < 30, "ended by the limit, not by sleep 60 (ran \(ran) s)")
    }

    @Test func environmentAndWorkingDirectoryAreHonoured() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var node = RunnerNode()
        node.environment = ["PATH": "/usr/bin:/bin", "FROM_RUNNER": "runner", "BOTH": "runner"]
        defer { node.cleanup() }
        try await node.detach("env", ["sh", "-c", "echo \"$FROM_RUNNER $FROM_SPEC $BOTH\"; pwd -P"],
                        ["environment": ["FROM_SPEC": "spec", "BOTH": "spec"], "cwd": folder])
        try await node.detach("default-cwd", ["pwd", "-P"])
        try await node.detach("no-cwd", ["true"], ["cwd": folder + "/missing"])
        try await node.detach("no-command", ["/no/such/program"])
        for uuid in ["env", "default-cwd", "no-cwd", "no-command"] { #expect(await node.waitFor("\(uuid) done")) }
        // `pwd -P` prints the canonical path (the temporary folder's has a double slash).
        let canonical = { (path: String) in URL(fileURLWithPath: path).resolvingSymlinksInPath().path }
        #expect(try await node.status("env")["log_tail"] as? String == "runner spec spec\n\(canonical(folder))\n")
        #expect(try await node.status("default-cwd")["log_tail"] as? String == canonical(node.stateFolder) + "\n")
        let noCwd = try await node.status("no-cwd")
        #expect(noCwd["exit_code"] is NSNull)
        #expect(noCwd["reason"] as? String == "working directory \(folder)/missing does not exist")
        let noCommand = try await node.status("no-command")
        #expect(noCommand["exit_code"] is NSNull)
        #expect((noCommand["reason"] as? String)?.contains("No such file or directory") == true)
    }

    @Test func theLogStaysBoundedAndKeepsTheEnd() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        try await node.detach("chatty", ["seq", "1", "600000"])   // about 4.4 MB
        #expect(await node.waitFor("chatty done"))
        let log = try Data(contentsOf: URL(fileURLWithPath: node.stateFolder + "/chatty.log"))
        #expect(log.count <= 1 << 20)
        let text = String(decoding: log, as: UTF8.self)
        #expect(text.hasPrefix("1\n2\n3\n"))
        #expect(text.hasSuffix("599999\n600000\n"))
        #expect(text.contains("bytes dropped"))
        let tail = try #require(try await node.status("chatty")["log_tail"] as? String)
        #expect(tail.utf8.count <= 4096 && tail.hasSuffix("600000\n"))
    }

    @Test func theSupervisorOutlivesTheSessionThatStartedIt() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        let specFile = node.root + "/spec.json"
        try RunnerNode.spec("survivor", ["sleep", "60"]).write(to: URL(fileURLWithPath: specFile))
        // A session like an SSH one: it detaches, then its whole process group is hung up.
        let script = "\(RunnerNode.binary) --root \(node.root) --detach < \(specFile) > \(node.root)/out; kill -HUP 0"
        let session = try await Harness.run("/usr/bin/setsid", ["-w", "/bin/sh", "-c", script])
        #expect(session.status != 0, "the session's shell was hung up too")
        let reply = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: node.root + "/out"))) as? [String: Any]
        let pid = try #require(reply?["pid"] as? Int)
        #expect(await node.list() == ["survivor"])
        // SIGHUP is ignored: the supervisor is still there to record the TERM that ends it.
        let signals = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let ignored = signals.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) }
        #expect((ignored ?? 0) & (1 << (UInt64(SIGHUP) - 1)) != 0)
        #expect(kill(Int32(pid), SIGHUP) == 0)
        #expect(await node.kill("TERM", "survivor"))
        let status = try await node.status("survivor")
        #expect(status["state"] as? String == "done" && status["signal"] as? Int == 15)
    }

    @Test func aMarkedNodeIsBroken() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        #expect(await node.list() == [])
        #expect(try await node.run(["--mark-broken", "disk", "failing"]).status == 0)
        #expect(await node.list() == ["broken disk failing"])
    }

    @Test func anUnwritableStateFolderIsBroken() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        // A root that is a file: the state folder cannot exist (works even for root).
        let file = node.root + "/file"
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        let result = try await node.run(["--list"], root: file)
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("broken"), "\(result)")
        #expect(result.stdout.split(separator: "\n").count == 1)
    }

    @Test func theRootComesFromTheEnvironmentWithoutRootOption() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        let process = try ChildProcess(RunnerNode.binary, ["--mark-broken", "via-env"], environment: ["CDD_INSTANCE_ROOT": node.root])
        #expect(await process.exit() == 0)
        #expect(await node.list() == ["broken via-env"])
    }

    /// A node whose PATH finds `script` (written to `bin`) as `docker` before any real one.
    func nodeWithFakeDocker(_ script: String, in bin: String) throws -> RunnerNode {
        try script.write(toFile: bin + "/docker", atomically: true, encoding: .utf8)
        chmod(bin + "/docker", 0o755)
        var node = RunnerNode()
        node.environment = ["PATH": "\(bin):/usr/bin:/bin"]
        return node
    }

    @Test func dockerRunsTheImageAndKillReachesTheContainer() async throws {
        let bin = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: bin) }
        // A fake docker: `run` prints its arguments and waits; `kill` records itself and, as
        // docker does, signals the container (the runner signals only the container then).
        let fake = """
            #!/bin/sh
            if [ "$1" = kill ]; then echo "$@" >> \(bin)/kills; kill -"$3" "$(cat \(bin)/container)"; exit 0; fi
            for a in "$@"; do printf '<%s>' "$a"; done; echo; echo $$ > \(bin)/container; exec sleep 60
            """
        let node = try nodeWithFakeDocker(fake, in: bin)
        defer { node.cleanup() }
        try await node.detach("dock", ["echo", "hi there"], ["image": "alpine:3", "runtime": "auto",
                                                         "environment": ["A": "1"], "cwd": "/work", "gpu_devices": [0, 1]])
        #expect(await Harness.eventually { ((try? await node.status("dock"))?["log_tail"] as? String ?? "").contains("\n") })
        let expected = "<run><--rm><--name><cdd-dock><--init><-e><A=1><-w></work><--gpus><\"device=0,1\"><alpine:3><echo><hi there>\n"
        #expect(try await node.status("dock")["log_tail"] as? String == expected)
        #expect(await node.kill("TERM", "dock"))
        #expect(try String(contentsOfFile: bin + "/kills", encoding: .utf8).contains("kill --signal 15 cdd-dock"))
        #expect(try await node.status("dock")["signal"] as? Int == 15)
    }

    /// On a busy machine the runtime may take longer than the grace to create the container:
    /// the grace counts from the TERM's delivery, so the container still gets its TERM and its
    /// time, not a KILL to the client. The fake's `kill` fails until `created` exists and logs
    /// each attempt's time, which shows when more than the grace has passed.
    @Test func theGraceCountsFromTheTermsDelivery() async throws {
        let bin = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: bin) }
        let fake = """
            #!/bin/sh
            if [ "$1" = kill ]; then
              if [ ! -e \(bin)/created ]; then date +%s.%N >> \(bin)/attempts; exit 1; fi
              kill -"$3" "$(cat \(bin)/container)"; exit 0
            fi
            echo $$ > \(bin)/container; exec sleep 300
            """
        let node = try nodeWithFakeDocker(fake, in: bin)
        defer { node.cleanup() }
        let supervisor = try await node.detach("slow-create", ["sleep", "300"], ["image": "alpine:3", "runtime": "docker"])
        #expect(kill(supervisor, SIGTERM) == 0)
        let attempts = { () -> [Double] in
            ((try? String(contentsOfFile: bin + "/attempts", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Double($0) }
        }
        let waited = { () -> Double in let t = attempts(); return (t.last ?? 0) - (t.first ?? 0) }
        _ = await Harness.eventually(120) {
            if waited() > 12 { return true }
            return await node.list().contains("slow-create done")
        }
        #expect(waited() > 12, "still waiting for the TERM's delivery after more than the grace")
        #expect(FileManager.default.createFile(atPath: bin + "/created", contents: nil))
        #expect(await node.waitFor("slow-create done", seconds: 60))
        let status = try await node.status("slow-create")
        #expect(status["signal"] as? Int == 15 && status["reason"] as? String == "the runner was stopped by SIGTERM", "\(status)")
    }

    /// A fake `docker` whose container loses the first signal `kill` delivers (its init had no
    /// handlers yet); with `created`, `kill` fails until that file exists (still being created).
    func fakeDockerLosingItsFirstSignal(in bin: String, created: Bool) -> String {
        let notYet = created ? "if [ ! -e \(bin)/created ]; then echo failed >> \(bin)/attempts; exit 1; fi" : ""
        return """
            #!/bin/sh
            if [ "$1" = kill ]; then
              \(notYet)
              echo "$@" >> \(bin)/kills
              if [ ! -e \(bin)/lost ]; then : > \(bin)/lost; exit 0; fi
              kill -"$3" "$(cat \(bin)/container)"; exit 0
            fi
            echo $$ > \(bin)/container; exec sleep 300
            """
    }

    /// The container ended by its TERM, sent twice (the lost one and once more), and no KILL.
    func expectEndedByATermSentTwice(_ node: RunnerNode, _ uuid: String, bin: String) async throws {
        #expect(await node.waitFor("\(uuid) done", seconds: 60))
        let status = try await node.status(uuid)
        #expect(status["signal"] as? Int == 15, "\(status)")
        let kills = (try? String(contentsOfFile: bin + "/kills", encoding: .utf8)) ?? ""
        #expect(kills == String(repeating: "kill --signal 15 cdd-\(uuid)\n", count: 2), "the TERM twice, no KILL: \(kills)")
    }

    /// A TERM that reaches a container in the moment it comes up can find its init without
    /// handlers yet, and the kernel drops it (a namespace's PID 1). The fake's `kill` fails
    /// until `created` exists and then loses its first signal: the runner sends it once more,
    /// so the container still ends by its TERM, not by a KILL ten seconds later.
    @Test func aTermThatReachedTheContainerAsItCameUpIsSentOnceMore() async throws {
        let bin = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: bin) }
        let node = try nodeWithFakeDocker(fakeDockerLosingItsFirstSignal(in: bin, created: true), in: bin)
        defer { node.cleanup() }
        let supervisor = try await node.detach("coming-up", ["sleep", "300"], ["image": "alpine:3", "runtime": "docker"])
        #expect(kill(supervisor, SIGTERM) == 0)
        #expect(await Harness.eventually(60) { FileManager.default.fileExists(atPath: bin + "/attempts") }, "the first try fails")
        #expect(FileManager.default.createFile(atPath: bin + "/created", contents: nil))
        try await expectEndedByATermSentTwice(node, "coming-up", bin: bin)
    }

    /// The same loss when `<runtime> kill` succeeds on its first try: the runtime already
    /// calls the container running while its init has no handlers yet. A TERM to a young
    /// container is sent once more, so it still ends by its TERM, not by a KILL after the grace.
    @Test func aTermAYoungContainerLostIsSentOnceMore() async throws {
        let bin = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: bin) }
        let node = try nodeWithFakeDocker(fakeDockerLosingItsFirstSignal(in: bin, created: false), in: bin)
        defer { node.cleanup() }
        let supervisor = try await node.detach("young", ["sleep", "300"], ["image": "alpine:3", "runtime": "docker"])
        #expect(await Harness.eventually(60) { FileManager.default.fileExists(atPath: bin + "/container") })
        #expect(kill(supervisor, SIGTERM) == 0)
        try await expectEndedByATermSentTwice(node, "young", bin: bin)
    }

    @Test func anImageWithoutARuntimeEndsAtOnce() async throws {
        var node = RunnerNode()
        node.environment = ["PATH": "/nonexistent"]
        defer { node.cleanup() }
        try await node.detach("imageless", ["true"], ["image": "alpine:3", "runtime": "auto"])
        try await node.detach("plain", ["/bin/sh", "-c", "exit 3"], ["image": "alpine:3", "runtime": "none"])
        #expect(await node.waitFor("imageless done"))
        #expect(await node.waitFor("plain done"))
        let status = try await node.status("imageless")
        #expect(status["exit_code"] is NSNull)
        #expect(status["reason"] as? String == "no container runtime (docker or podman) on this node")
        #expect(try await node.status("plain")["exit_code"] as? Int == 3, "runtime none ignores the image")
    }

    @Test func commandLine() async throws {
        let node = RunnerNode()
        defer { node.cleanup() }
        let version = try await node.run(["--version"])
        #expect(version.status == 0 && version.stdout == "cloud-dispatch-runner 1.0.0\n")
        #expect(try await node.run(["--help"]).stdout.contains("--detach"))
        for bad in [[], ["--bogus"], ["--list", "extra"], ["--status"], ["--kill", "TERM"], ["--status", "a/b"]] {
            let result = try await node.run(bad)
            #expect(result.status == 2, "\(bad)")
            #expect(result.stderr.contains("usage:"))
        }
    }
}
