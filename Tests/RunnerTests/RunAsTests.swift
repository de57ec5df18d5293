import Foundation
import Testing
import TestSupport

@testable import Runner

/// `run_as`: which accounts a spec may name, how they are found, and what the plan does with one.
@Suite struct RunAsTests {
    @Test(arguments: ["nobody", "_svc", "build-1.x", "65534", "1000:1000"])
    func acceptsNamesAndIds(text: String) { #expect(RunAs.isValid(text)) }

    @Test(arguments: ["", "Root", "1000:", ":1000", "1:2:3", "a b", "x;rm", "99999999999", String(repeating: "a", count: 33)])
    func refusesAnythingElse(text: String) { #expect(!RunAs.isValid(text)) }

    static let passwd = """
        root:x:0:0:root:/root:/bin/bash
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
        broken line
        builder:x:1001:100::/home/builder:/bin/sh
        """

    @Test func findsAccountsInThePasswordFile() throws {
        let file = Harness.temporaryFolder() + "/passwd"
        try RunAsTests.passwd.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(RunAs.resolve("builder", passwd: file) == .success(.init(uid: 1001, gid: 100, name: "builder", home: "/home/builder")))
        #expect(RunAs.resolve("65534", passwd: file) == .success(.init(uid: 65534, gid: 65534, name: "nobody", home: "/nonexistent")))
        #expect(RunAs.resolve("4242:77", passwd: file) == .success(.init(uid: 4242, gid: 77, name: nil, home: nil)))
        #expect(RunAs.resolve("4242", passwd: file)
            == .failure(.init(description: "cannot run as 4242: no user with uid 4242 on this node to take a group from; give uid:gid")))
        #expect(RunAs.resolve("ghost", passwd: file) == .failure(.init(description: "cannot run as ghost: no such user on this node")))
    }

    func spec(_ extra: String) throws -> Spec {
        try Spec(parsing: Array(#"{"uuid": "c1", "command": ["run"], "environment": {"HOME": "/mine"}\#(extra)}"#.utf8))
    }

    @Test func aPlainProcessRunsAsTheAccountFromTheRootFolder() throws {
        let account = RunAs.Account(uid: 7, gid: 8, name: "seven", home: "/home/seven")
        let plan = Launch.plan(try spec(#", "run_as": "seven""#), stateFolder: "/state", find: { _ in nil }, user: { _ in .success(account) })
        // The spec's HOME comes last, so it wins.
        #expect(plan == .run(.init(argv: ["run"], environment: ["HOME=/home/seven", "USER=seven", "LOGNAME=seven", "HOME=/mine"],
                                   cwd: "/", runtime: nil, account: account)))
        #expect(Launch.plan(try spec(#", "run_as": "ghost""#), stateFolder: "/s", find: { _ in nil },
                            user: { _ in .failure(.init(description: "no ghost")) }) == .refuse("no ghost"))
    }

    @Test func aBadRunAsIsABadSpec() {
        #expect(throws: Spec.Problem.self) { try spec(#", "run_as": "a b""#) }
        #expect(throws: Spec.Problem.self) { try spec(#", "run_as": 0"#) }
    }
}
