import Testing
@testable import Runner

/// The pure parts of the runner: JSON, spec checks, the launch decision, log trimming.
@Suite struct JSONTests {
    @Test func parsesEveryKindOfValue() throws {
        let json = try JSON.parse(#" {"a": [1, -2.5e2, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}} "#)
        #expect(json["a"] == .array([.number(1), .number(-250), .bool(true), .bool(false), .null]))
        #expect(json["s"]?.string == "x\"\\/\u{8}\u{c}\n\r\té😀")
        #expect(json["o"] == .object([]))
        #expect(json["missing"] == nil)
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        #expect(try JSON.parse(#""\ud800x\udc00""#).string == "\u{FFFD}x\u{FFFD}")
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\u{01}\"", "\"\\x\"", "[1] 2", "\"abc"])
    func refusesInvalidDocuments(text: String) {
        #expect(throws: JSONError.self) { try JSON.parse(text) }
    }

    @Test func refusesDeepNesting() {
        #expect(throws: JSONError.self) { try JSON.parse(String(repeating: "[", count: 10_000)) }
    }

    @Test func printsCompactOneLineText() throws {
        let value = JSON.object([("s", .string("a\"b\\c\n\u{1}é")), ("n", .number(42)), ("f", .number(1.5)),
                                 ("z", .null), ("l", .array([.bool(true)]))])
        #expect(value.text == #"{"s":"a\"b\\c\n\u0001é","n":42,"f":1.5,"z":null,"l":[true]}"#)
        #expect(try JSON.parse(value.text) == value)
        #expect(JSON.number(1_795_940_145.237459).text == "1795940145.237459")
    }
}

@Suite struct SpecTests {
    @Test func defaultsFillMissingKeysAndUnknownKeysAreIgnored() throws {
        let spec = try Spec(parsing: Array(#"{"uuid": "c-1.x_y", "command": ["echo", "hi"], "future": 1}"#.utf8))
        #expect(spec.uuid == "c-1.x_y" && spec.command == ["echo", "hi"])
        #expect(spec.image == nil && spec.cwd == nil && spec.maxRunTime == 0 && spec.gpuDevices == [] && spec.runtime == .none)
        #expect(spec.environment.isEmpty)
    }

    @Test func readsEveryField() throws {
        let spec = try Spec(parsing: Array(#"""
            {"uuid": "u", "command": ["a"], "image": "img", "environment": {"B": "2", "A": "1"}, "cwd": "/w",
             "max_run_time": 30, "gpu_devices": [0, 3], "runtime": "podman"}
            """#.utf8))
        #expect(spec.image == "img" && spec.cwd == "/w" && spec.maxRunTime == 30 && spec.gpuDevices == [0, 3])
        #expect(spec.runtime == .podman && spec.environment.map { "\($0)=\($1)" } == ["B=2", "A=1"])
    }

    @Test(arguments: [
        #"{"uuid": "broken", "command": ["a"]}"#, #"{"uuid": "u", "command": ["a"], "cwd": "relative"}"#,
        #"{"uuid": "u", "command": ["a\u0000b"]}"#, #"{"uuid": "u", "command": [""]}"#,
        #"{"uuid": "u", "command": ["a"], "max_run_time": 1.5}"#, #"{"uuid": "u", "command": ["a"], "gpu_devices": [-1]}"#,
        #"{"uuid": "u", "command": ["a"], "environment": {"A=B": "x"}}"#,
        "{\"uuid\": \"\(String(repeating: "x", count: 65))\", \"command\": [\"a\"]}",
    ])
    func refusesBadSpecs(text: String) {
        #expect(throws: Spec.Problem.self) { try Spec(parsing: Array(text.utf8)) }
    }
}

@Suite struct LaunchTests {
    func spec(_ extra: String) throws -> Spec {
        try Spec(parsing: Array(#"{"uuid": "c1", "command": ["run", "it"], "environment": {"K": "V"}\#(extra)}"#.utf8))
    }

    @Test func plainProcessStartsInTheStateFolderWithTheSpecEnvironment() throws {
        #expect(Launch.plan(try spec(""), stateFolder: "/state", find: { _ in nil })
            == .run(.init(argv: ["run", "it"], environment: ["K=V"], cwd: "/state", runtime: nil)))
        #expect(Launch.plan(try spec(#", "image": "img", "cwd": "/w""#), stateFolder: "/state", find: { _ in "/usr/bin/docker" })
            == .run(.init(argv: ["run", "it"], environment: ["K=V"], cwd: "/w", runtime: nil)), "runtime none ignores the image")
    }

    @Test func podmanGetsNoGPUFlag() throws {
        let plan = Launch.plan(try spec(#", "image": "img", "runtime": "auto", "gpu_devices": [2]"#), stateFolder: "/s",
                               find: { $0 == "podman" ? "/bin/podman" : nil })
        #expect(plan == .run(.init(argv: ["/bin/podman", "run", "--rm", "--name", "cdd-c1", "--init", "-e", "K=V", "img", "run", "it"],
                                   environment: [], cwd: "/s", runtime: "podman")))
    }

    @Test func aMissingRuntimeIsAReason() throws {
        #expect(Launch.plan(try spec(#", "image": "img", "runtime": "auto""#), stateFolder: "/s", find: { _ in nil })
            == .refuse("no container runtime (docker or podman) on this node"))
        #expect(Launch.plan(try spec(#", "image": "img", "runtime": "docker""#), stateFolder: "/s", find: { _ in nil })
            == .refuse("no container runtime docker on this node"))
    }
}

@Suite struct SmallPartsTests {
    @Test func signalNames() {
        #expect(Signals.parse("TERM") == 15 && Signals.parse("SIGKILL") == 9 && Signals.parse("usr2") == 12)
        #expect(Signals.parse("2") == 2 && Signals.parse("0") == nil && Signals.parse("SIGFOO") == nil)
    }

    @Test func waitStatusesBecomeOutcomes() {
        #expect(Supervisor.outcome(status: 7 << 8, viaRuntime: false, reason: nil, startedAt: nil).exitCode == 7)
        let signaled = Supervisor.outcome(status: 9, viaRuntime: false, reason: nil, startedAt: nil)
        #expect(signaled.exitCode == 137 && signaled.signal == 9)
        let docker = Supervisor.outcome(status: 143 << 8, viaRuntime: true, reason: nil, startedAt: nil)
        #expect(docker.exitCode == 143 && docker.signal == 15)
        #expect(Supervisor.outcome(status: 143 << 8, viaRuntime: false, reason: nil, startedAt: nil).signal == nil)
    }

    /// A signal the runtime delivered goes once more when it may have come as the container
    /// came up: after a failed try, or to a young container; never a third time, never to an
    /// older container (one TERM, as with `docker stop`).
    @Test func aDeliveredSignalIsSentAgainOnlyWhileTheContainerMayBeComingUp() {
        let young = Supervisor.comingUp - 0.5, old = Supervisor.comingUp + 0.5
        #expect(Supervisor.sendsAgain(.first, age: young) && !Supervisor.sendsAgain(.first, age: old))
        #expect(Supervisor.sendsAgain(.retry, age: young) && Supervisor.sendsAgain(.retry, age: old))
        #expect(!Supervisor.sendsAgain(.resend, age: young) && !Supervisor.sendsAgain(.resend, age: old))
    }

    @Test func logTailsAreCutAtCharacterBoundaries() {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        #expect(Array(BoundedLog.trimToCharacters((euro.suffix(2) + Array("ab".utf8) + euro)[...])) == Array("ab€".utf8))
        #expect(Array(BoundedLog.trimToCharacters((Array("ab".utf8) + euro.prefix(2))[...])) == Array("ab".utf8))
        #expect(Array(BoundedLog.trimToCharacters(Array("plain".utf8)[...])) == Array("plain".utf8))
    }

    @Test func uuidRule() {
        #expect(Paths.isValidUUID("zzzzz-dz642-abcdefghijklmno") && Paths.isValidUUID("a.b_c-D9"))
        #expect(!Paths.isValidUUID("") && !Paths.isValidUUID("a b") && !Paths.isValidUUID("a/b") && !Paths.isValidUUID("é"))
        #expect(!Paths.isValidUUID(String(repeating: "a", count: 65)) && !Paths.isValidUUID("broken"))
    }
}
