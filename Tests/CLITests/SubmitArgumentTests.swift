import TestSupport
import Testing

/// `submit` checks sizes and durations before it reaches for a server: no daemon needed.
@Suite struct SubmitArgumentTests {
    func submit(_ options: [String]) async throws -> (status: Int32, output: String, stdout: String) {
        // A port held bound and not listening: a connection would be refused, and none should be tried.
        let refusing = try BoundPort(listening: false)
        defer { withExtendedLifetime(refusing) {} }
        return try await Harness.run(Harness.cloudDispatch, ["submit", "--server", "http://127.0.0.1:\(refusing.port)"] + options + ["--", "true"])
    }

    /// These went through `Double` into `Int64(_:)` and crashed the CLI with a backtrace.
    @Test(arguments: ["infGiB", "1e19B", "99999999999999999999GiB", "nan", "-1GiB", "lots"])
    func aBadSizeIsAClearError(ram: String) async throws {
        let run = try await submit(["--ram=\(ram)"])  // "=": "-1GiB" would read as an option
        #expect(run.status == 64, "a usage error, not a crash: \(run.output)")
        #expect(run.output.contains("--ram: \"\(ram)\" is "), "\(run.output)")
        #expect(!run.output.contains("Fatal error") && !run.output.contains("Backtrace"), "\(run.output)")
    }

    @Test func aSizeBeyondInt64SaysSo() async throws {
        let run = try await submit(["--scratch", "99999999999999999999GiB"])
        #expect(run.output.contains("--scratch: \"99999999999999999999GiB\" is too large (at most 8EiB)"), "\(run.output)")
    }

    @Test(arguments: ["99999999999999999999d", "infs", "1.5s"])
    func aBadMaxRunTimeIsAClearError(duration: String) async throws {
        let run = try await submit(["--max-run-time=\(duration)"])
        #expect(run.status == 64 && run.output.contains("--max-run-time: \"\(duration)\" is "), "\(run.output)")
    }
}
