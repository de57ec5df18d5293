import Foundation
import Logging
import TestSupport
import PostgresQueue
import Queue
import SQLiteQueue
import Testing

/// The two stores the shared suite runs against. PostgreSQL comes from
/// CLOUD_DISPATCH_TEST_POSTGRES (`make test` starts a throwaway cluster and sets it); without it
/// the PostgreSQL cases fail rather than pass unseen.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

struct StoreUnderTest {
    let store: any ContainerStore
    let cleanup: @Sendable () async -> Void
}

enum StoreFixture {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func temporaryFolder() -> String {
        var template = Array((NSTemporaryDirectory() + "/cdd-queue-XXXXXX").utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    static func make(_ kind: StoreKind, policy: QueuePolicy = QueuePolicy()) async throws -> StoreUnderTest {
        switch kind {
        case .sqlite:
            let folder = temporaryFolder()
            let store = try SQLiteContainerStore.open(path: folder + "/queue.sqlite3", policy: policy)
            return StoreUnderTest(store: store) {
                await store.close()
                try? FileManager.default.removeItem(atPath: folder)
            }
        case .postgres:
            let url = try await freshPostgresDatabase()
            let store = try await PostgresContainerStore.open(url: url, policy: policy, logger: logger)
            return StoreUnderTest(store: store) { await store.close() }
        }
    }

    static func freshPostgresDatabase() async throws -> String { try await PostgresScratch.database() }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` against a fresh store and always cleans up.
func withStore(_ kind: StoreKind, policy: QueuePolicy = QueuePolicy(), _ body: (any ContainerStore) async throws -> Void) async throws {
    let fixture = try await StoreFixture.make(kind, policy: policy)
    do {
        try await body(fixture.store)
    } catch {
        await fixture.cleanup()
        throw error
    }
    await fixture.cleanup()
}

func spec(_ command: String = "true", priority: Int = 1, vcpus: Int = 1, requestID: String? = nil) -> ContainerSpec {
    ContainerSpec(command: [command], priority: priority, runtimeConstraints: RuntimeConstraints(vcpus: vcpus),
                  clientRequestID: requestID)
}
