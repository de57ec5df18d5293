import DriverHost
import Foundation
import Testing

/// A driver that breaks the contract yields a precise `internal` error naming it — never a
/// crash, never a hang.
@Suite struct MisbehavingDriverTests {
    static let type = InstanceTypeSpec(name: "small", providerType: "t1", vcpus: 2, ram: 4 << 30, price: 0.1)

    func openSet(mode: String, extra: String = "", timeout: Duration = .seconds(20)) async throws -> (NativeInstanceSet, TemporaryFolder) {
        let folder = try TemporaryFolder.plugins([("libfixture_misbehave.so", "libcdd_misbehave.so")])
        let report = makeLoader(timeout: timeout).loadNow(folder: folder.path)
        let driver = try #require(report.driver(id: "misbehave"))
        let set = try await driver.openNativeInstanceSet(id: "test", config: #"{"mode": "\#(mode)"\#(extra)}"#)
        return (set, folder)
    }

    func listError(mode: String) async throws -> DriverError {
        let (set, folder) = try await openSet(mode: mode)
        defer { folder.remove() }
        do {
            _ = try await set.list(tags: [:])
        } catch {
            return error
        }
        Issue.record("list succeeded in mode \(mode)")
        throw CancellationError()
    }

    @Test func wellBehavedModeWorks() async throws {
        let (set, folder) = try await openSet(mode: "ok")
        defer { folder.remove() }
        let made = try await set.create(CreateRequest(instanceType: Self.type, tags: ["a": "1"], count: 2))
        #expect(made.count == 2)
        #expect(try await set.list(tags: ["a": "1"]).map(\.id) == made.map(\.id))
        await set.close()
    }

    @Test func junkJSON() async throws {
        let error = try await listError(mode: "bad_json")
        #expect(error.errorClass == .internal)
        #expect(error.driver == "misbehave" && error.operation == "list")
        #expect(error.message.hasPrefix("reply is not valid JSON (unexpected character 'o' at byte 15): {\"instances\": [oops"))
    }

    @Test func replyBreakingTheSchema() async throws {
        let error = try await listError(mode: "schema")
        #expect(error.errorClass == .internal)
        #expect(error.message == "reply breaks the list_reply schema: instances[0].state: \"exploded\" is not one of pending, running, stopping, stopped")
    }

    @Test func okWithoutAReply() async throws {
        let error = try await listError(mode: "null_reply")
        #expect(error.errorClass == .internal && error.message == "returned ok without a reply")
    }

    @Test func unknownStatusCode() async throws {
        let error = try await listError(mode: "unknown_status")
        #expect(error.errorClass == .internal && error.message.hasPrefix("unknown status 99"))
    }

    @Test func providerErrorDetailsArriveIntact() async throws {
        let error = try await listError(mode: "error")
        #expect(error.errorClass == .capacityType)
        #expect(error.httpStatus == 503)
        #expect(error.providerCode == "InsufficientInstanceCapacity")
        #expect(error.retryAfter == .milliseconds(1500))
        #expect(error.message == "no capacity for this type in zone-a", "control characters are flattened")
    }

    @Test func moreInstancesThanAskedFor() async throws {
        let (set, folder) = try await openSet(mode: "too_many")
        defer { folder.remove() }
        await #expect { try await set.create(CreateRequest(instanceType: Self.type, tags: [:], count: 2)) } throws: { error in
            (error as? DriverError)?.message == "asked for 2 instances, got 3"
        }
    }

    @Test func invalidRequestsNeverLeaveTheHost() async throws {
        let (set, folder) = try await openSet(mode: "ok")
        defer { folder.remove() }
        await #expect { try await set.create(CreateRequest(instanceType: Self.type, tags: [:], count: 0)) } throws: { error in
            guard let e = error as? DriverError else { return false }
            return e.errorClass == .invalid && e.message == "request breaks the create_request schema: count: 0 is below the minimum 1"
        }
    }

    @Test func aCallPastItsTimeoutFailsWithoutBlockingOthers() async throws {
        let folder = try TemporaryFolder.plugins([("libfixture_misbehave.so", "libcdd_misbehave.so")])
        defer { folder.remove() }
        let release = folder.path + "/release"
        defer { _ = FileManager.default.createFile(atPath: release, contents: nil) }  // lets the hung call's thread go
        // A timeout a loaded machine cannot outrun for the fast call; the slow call never ends by itself.
        let report = makeLoader(threads: 4, timeout: .seconds(5)).loadNow(folder: folder.path)
        let driver = try #require(report.driver(id: "misbehave"))
        let slow = try await driver.openNativeInstanceSet(id: "slow", config: #"{"mode": "block", "release_file": "\#(release)"}"#)
        let fast = try await driver.openNativeInstanceSet(id: "fast", config: #"{"mode": "ok"}"#)
        do {
            _ = try await slow.list(tags: [:])
            Issue.record("the slow call returned")
        } catch {
            #expect(error.errorClass == .internal)
            #expect(error.message == "no reply within 5.0 seconds")
        }
        // The hung call holds one pool thread; the others still serve.
        #expect(try await fast.list(tags: [:]).isEmpty)
    }

    @Test func closeWaitsForCallsInFlightAndRefusesLaterOnes() async throws {
        let (set, folder) = try await openSet(mode: "sleep", extra: #", "sleep_ms": 200"#)
        defer { folder.remove() }
        async let listing = set.list(tags: [:])
        // Wait for the call to reach the driver. Generously: with 2 cores the cooperative pool
        // has 2 threads, and other suites' blocking work can hold both for many seconds.
        for _ in 0..<6000 where set.callsInFlight == 0 { try await Task.sleep(for: .milliseconds(10)) }
        await set.close()
        #expect(try await listing.isEmpty, "the call in flight completed before close_set ran")
        await #expect { try await set.list(tags: [:]) } throws: { ($0 as? DriverError)?.message == "instance set test is closed" }
    }

    @Test func aCallCancelledBeforeItStartsNeverHoldsTheSetOpen() async throws {
        let folder = try TemporaryFolder.plugins([("libfixture_misbehave.so", "libcdd_misbehave.so")])
        defer { folder.remove() }
        let release = folder.path + "/release"
        // No call timeout a loaded machine could reach: the first call ends when released.
        let report = makeLoader(threads: 1, timeout: .seconds(3600)).loadNow(folder: folder.path)
        let driver = try #require(report.driver(id: "misbehave"))
        // The first call holds the only thread until the test releases it, however slow the machine.
        let set = try await driver.openNativeInstanceSet(id: "slow", config: #"{"mode": "block", "release_file": "\#(release)"}"#)
        let running = Task { try await set.list(tags: [:]) }
        for _ in 0..<6000 where set.callsInFlight == 0 { try await Task.sleep(for: .milliseconds(10)) }
        try #require(set.callsInFlight == 1, "the first call never reached the driver")
        let queued = Task { try await set.list(tags: [:]) }  // waits for the only thread (or is cancelled before it asks)
        queued.cancel()
        await #expect { try await queued.value } throws: { ($0 as? DriverError)?.message == "call cancelled before it started" }
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        _ = try await running.value
        #expect(set.callsInFlight == 0)
        await set.close()
    }
}
