import DriverHost
import Foundation
import Testing

/// Calls into a loaded executor backend: typed, schema-checked both ways, bounded by the call
/// timeout; a backend that misbehaves yields `internal`, never a crash or a hang.
@Suite struct ExecutorCallTests {
    static let tags = ["cloud-dispatch-id": "test"]

    static func submission(_ command: [String], token: String, uuid: String? = nil) -> JobSubmission {
        JobSubmission(
            container: JobContainer(uuid: uuid ?? "uuid-" + token, command: command, vcpus: 1, ram: 1 << 20), partition: "debug",
            idempotencyToken: token, tags: tags)
    }

    func openBackend(_ config: String = "{}", timeout: Duration = .seconds(20)) async throws -> (NativeBackend, TemporaryFolder) {
        let folder = try TemporaryFolder.plugins([("libfixture_executor.so", "libcdx_memexec.so")])
        let report = makeLoader(timeout: timeout).loadNow(folder: folder.path)
        let executor = try #require(report.nativeExecutor(id: "memexec"))
        let backend = try await executor.openNativeBackend(dispatcherID: "d-" + UUID().uuidString.prefix(8), config: config)
        return (backend, folder)
    }

    func listError(_ mode: String) async throws -> DriverError {
        let (backend, folder) = try await openBackend(#"{"mode": "\#(mode)"}"#)
        defer { folder.remove() }
        do {
            _ = try await backend.list(tags: [:])
        } catch {
            return error
        }
        Issue.record("list succeeded in mode \(mode)")
        throw CancellationError()
    }

    @Test func submitListCancelReleaseAndLogTail() async throws {
        let (backend, folder) = try await openBackend(#"{"start_ms": 0}"#)
        defer { folder.remove() }
        let exited = try await backend.submit(Self.submission(["sh", "-c", "exit 3"], token: "t-exit"))
        #expect(exited.state == .ended && exited.endReason == .exited && exited.exitCode == 3)
        #expect(try await backend.submit(Self.submission(["sh", "-c", "exit 3"], token: "t-exit")).id == exited.id)
        let sleeper = try await backend.submit(Self.submission(["sleep", "300"], token: "t-sleep"))
        #expect(sleeper.state == .running)
        let capacity = try await backend.capacity()
        // Other tests' jobs may be running in the same partition (the fixture keeps jobs per process).
        #expect(capacity.map(\.name) == ["debug"] && capacity[0].freeVCPUs < capacity[0].totalVCPUs)
        try await backend.cancel(jobID: sleeper.id, grace: .seconds(1))
        let listed = try await backend.list(tags: Self.tags)
        #expect(Set(listed.map(\.id)) == [exited.id, sleeper.id])
        #expect(listed.first { $0.id == sleeper.id }?.endReason == .cancelled)
        try await backend.release(jobIDs: [exited.id, sleeper.id])
        #expect(try await backend.list(tags: [:]).isEmpty)
        let echo = try await backend.submit(Self.submission(["echo", "héllo", "world"], token: "t-echo"))
        #expect(try await backend.logTail(jobID: echo.id, maxBytes: 8) == "o world\n")
        #expect(try await backend.logTail(jobID: echo.id, maxBytes: 11) == "llo world\n", "cut at a character boundary, not inside é")
        await backend.close()
    }

    @Test func aTokenUsedForAnotherContainerIsInvalid() async throws {
        let (backend, folder) = try await openBackend()
        defer { folder.remove() }
        _ = try await backend.submit(Self.submission(["true"], token: "t1", uuid: "a"))
        do {
            _ = try await backend.submit(Self.submission(["true"], token: "t1", uuid: "b"))
            Issue.record("a second container took the token")
        } catch {
            #expect(error.errorClass == .invalid && error.message.hasPrefix("idempotency_token"))
        }
    }

    @Test func requestsOverTheLimitsNeverReachTheBackend() async throws {
        let (backend, folder) = try await openBackend(#"{"mode": "unknown_status"}"#)
        defer { folder.remove() }
        do {
            _ = try await backend.submit(Self.submission(["true"], token: "has a space"))
            Issue.record("an invalid token was sent")
        } catch {
            // Refused by the host (invalid), not answered by the backend (which would say status 99).
            #expect(error.errorClass == .invalid && error.message.hasPrefix("request breaks the submit_request schema"), "\(error)")
        }
        do {
            try await backend.release(jobIDs: [String(repeating: "x", count: 300)])
            Issue.record("an over-long id was sent")
        } catch {
            #expect(error.errorClass == .invalid && error.operation == "release")
        }
    }

    @Test func junkJSONIsInternal() async throws {
        let error = try await listError("bad_json")
        #expect(error.errorClass == .internal && error.driver == "memexec" && error.operation == "list")
        #expect(error.message.hasPrefix("reply is not valid JSON"))
    }

    @Test func aReplyBreakingTheSchemaIsInternal() async throws {
        let error = try await listError("schema")
        #expect(error.errorClass == .internal)
        #expect(error.message.hasPrefix("reply breaks the list_reply schema: jobs[0]"), "\(error.message)")
    }

    @Test func anUnknownStatusIsInternal() async throws {
        let error = try await listError("unknown_status")
        #expect(error.errorClass == .internal && error.message.hasPrefix("unknown status 99"))
    }

    @Test func aHangingCallTimesOut() async throws {
        let release = NSTemporaryDirectory() + "cdx-release-" + UUID().uuidString
        defer { _ = FileManager.default.createFile(atPath: release, contents: nil) }  // lets the stuck call end
        let (backend, folder) = try await openBackend(#"{"mode": "block", "release_file": "\#(release)"}"#, timeout: .milliseconds(300))
        defer { folder.remove() }
        do {
            _ = try await backend.capacity()
            Issue.record("a blocked call returned")
        } catch {
            #expect(error.errorClass == .internal && error.message == "no reply within 0.3 seconds" && error.operation == "capacity")
        }
        #expect(backend.callsInFlight == 1, "the answer came from the timeout: the backend's call is still blocked")
        _ = FileManager.default.createFile(atPath: release, contents: nil)
    }

    @Test func aCallAfterCloseIsRefused() async throws {
        let (backend, folder) = try await openBackend()
        defer { folder.remove() }
        await backend.close()
        do {
            _ = try await backend.list(tags: [:])
            Issue.record("list after close worked")
        } catch {
            #expect(error.errorClass == .invalid && error.message.hasSuffix("is closed"))
        }
    }

    @Test func anUnsafeDispatcherIDIsRefusedByTheHost() async throws {
        let folder = try TemporaryFolder.plugins([("libfixture_executor.so", "libcdx_memexec.so")])
        defer { folder.remove() }
        let executor = try #require(makeLoader().loadNow(folder: folder.path).nativeExecutor(id: "memexec"))
        do {
            _ = try await executor.openBackend(dispatcherID: "../etc", config: "{}")
            Issue.record("opened")
        } catch {
            #expect(error.errorClass == .invalid && error.operation == "open_backend")
        }
    }
}
