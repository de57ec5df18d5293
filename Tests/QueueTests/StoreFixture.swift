import Foundation
import Logging
import PostgresNIO
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

    static var postgresURL: String? { ProcessInfo.processInfo.environment["CLOUD_DISPATCH_TEST_POSTGRES"] }

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

    /// A new, empty database in the test cluster; returns its URL.
    static func freshPostgresDatabase() async throws -> String {
        guard let base = postgresURL, var url = URLComponents(string: base) else {
            throw FixtureError("CLOUD_DISPATCH_TEST_POSTGRES is not set: run the tests with `make test`, which starts PostgreSQL")
        }
        let name = "cdq_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
        var config = PostgresClient.Configuration(host: url.host ?? "127.0.0.1", port: url.port ?? 5432,
                                                  username: url.user ?? "postgres", password: url.password,
                                                  database: "postgres", tls: .disable)
        config.options.maximumConnections = 1
        let admin = PostgresClient(configuration: config, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            group.cancelAll()
        }
        url.path = "/" + name
        return url.string!
    }
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
