import Foundation
import Logging
import PostgresNIO

/// Scratch databases in the test PostgreSQL cluster named by CLOUD_DISPATCH_TEST_POSTGRES
/// (`make test` starts one and sets it).
public enum PostgresScratch {
    public static var serverURL: String? { ProcessInfo.processInfo.environment["CLOUD_DISPATCH_TEST_POSTGRES"] }

    /// A new, empty database; returns its URL.
    public static func database() async throws -> String {
        guard let base = serverURL, var url = URLComponents(string: base) else {
            throw HarnessError("CLOUD_DISPATCH_TEST_POSTGRES is not set: run the tests with `make test`, which starts PostgreSQL")
        }
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let name = "cdq_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
        var config = PostgresClient.Configuration(host: url.host ?? "127.0.0.1", port: url.port ?? 5432, username: url.user ?? "postgres",
                                                  password: url.password, database: "postgres", tls: .disable)
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

/// Whether `stream` yields within `seconds`.
public func yields(_ stream: AsyncStream<Void>, within seconds: Double) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask { await stream.first { _ in true } != nil }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return false
        }
        let first = await group.next()!
        group.cancelAll()
        return first
    }
}
