import APIClient
import Foundation
import Queue
import Testing
import TestSupport

/// The reported case on the real daemon: its open-file limit is systemd's default 1,024 and
/// 1,100 clients connect and stall. Before, `accept` failed with EMFILE and /_health and submits
/// timed out for as long as they stayed; now the daemon caps its connections to fit the limit,
/// answers the excess 503 at once, and serves again once the read timeout has closed the
/// stalled ones.
@Suite(.serialized) struct OpenFileLimitTests {
    @Test func aDaemonAtItsOpenFileLimitRefusesClearlyAndRecovers() async throws {
        try #require(RawSockets.raiseOpenFileLimit() >= 2500, "the test holds 1,100 connections and more")
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = folder + "/config.yml"
        // Port 0: the daemon binds a port nobody can take first and says which in its log.
        try "listen: 127.0.0.1:0\nstate_dir: state\napi: {read_timeout: 3s}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let log = folder + "/serve.log"
        let logFD = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(logFD) }
        // `ulimit -n` sets the hard limit too: the daemon cannot raise it back.
        let daemon = try ChildProcess("/bin/sh", ["-c", #"ulimit -n 1024 && exec "$0" serve --no-dispatch --config "$1""#, Harness.cloudDispatch, config],
                                      errors: logFD)
        defer { Task { [daemon] in await daemon.stop() } }  // a defer cannot wait: stopped and reaped in a task
        let port = try #require(await Harness.listeningPort(logFile: log), "the daemon did not say where it listens")
        let raw = RawSockets(port: port)
        let health = "GET /_health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        let started = await Harness.eventually(30) { (try? RawSockets.answerSync(port: port, health))?.hasPrefix("HTTP/1.1 200") == true }
        try #require(started, "the daemon did not start")

        let stalled = try await raw.open(1100, sending: ConnectionGuardTests.partialHead)
        defer { RawSockets.closeAll(stalled) }
        // It answers at once, if only to say it is full; it never leaves a client hanging.
        let (answer, closed) = try await raw.exchange(health, bound: .seconds(10))
        #expect(closed && (answer.hasPrefix("HTTP/1.1 503") || answer.hasPrefix("HTTP/1.1 200")), "\(answer)")
        if answer.hasPrefix("HTTP/1.1 503") { #expect(answer.contains("too_many_connections"), "\(answer)") }
        // Once the read timeout has closed the stalled connections, it serves again.
        let recovered = await Harness.eventually(60) { (try? RawSockets.answerSync(port: port, health))?.hasPrefix("HTTP/1.1 200") == true }
        #expect(recovered)
        let token = try String(contentsOfFile: folder + "/state/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let made = try await APIClient(server: URL(string: "http://127.0.0.1:\(port)")!, token: token).submit([ContainerSpec(command: ["a"])])
        #expect(made.count == 1)
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(said.contains("the open-file limit is too low"), "\(said)")
    }
}
