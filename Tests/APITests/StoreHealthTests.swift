import APIClient
import Foundation
import GRDB
import Queue
@testable import SQLiteQueue
import Testing

/// /_health tells the truth about a store that reads but cannot write (a full or read-only
/// disk): degraded, with the reason and since when, and back to ok by itself.
@Suite struct StoreHealthTests {
    @Test func healthIsDegradedWhileTheStoreRefusesWritesAndRecoversByItself() async throws {
        try await withServer { server in
            let anonymous = server.client(nil)
            await server.writeProbe.probeOnce()
            #expect(try await health(anonymous) == ["status": "ok", "store": "ok", "dispatcher": "not running in this process"])

            try await server.store.database.write { db in
                for table in ["health_probe", "containers"] {
                    try db.execute(sql: """
                        CREATE TRIGGER refuse_\(table) BEFORE INSERT ON \(table) BEGIN SELECT RAISE(ABORT, 'disk is full (test)'); END;
                        CREATE TRIGGER refuse_\(table)_update BEFORE UPDATE ON \(table) BEGIN SELECT RAISE(ABORT, 'disk is full (test)'); END;
                        """)
                }
            }
            await server.writeProbe.probeOnce()
            let degraded = try await health(anonymous)
            #expect(degraded["status"] == "degraded")
            #expect(degraded["store"]?.hasPrefix("writes failing since 20") == true, "\(degraded)")
            #expect(degraded["store"]?.contains("disk is full (test)") == true, "\(degraded)")
            await #expect { _ = try await server.client().submit([ContainerSpec(command: ["true"])]) } throws: { error in
                guard case .http(let status, _, let message, _) = error as? APIClient.Failure else { return false }
                return status == 503 && message.contains("disk is full (test)")
            }

            try await server.store.database.write { db in
                for table in ["health_probe", "containers"] {
                    try db.execute(sql: "DROP TRIGGER refuse_\(table); DROP TRIGGER refuse_\(table)_update")
                }
            }
            await server.writeProbe.probeOnce()
            #expect(try await health(anonymous)["status"] == "ok")
        }
    }

    private func health(_ client: APIClient) async throws -> [String: String] {
        let (_, data) = try await client.raw("GET", "/_health")
        return try JSONDecoder().decode([String: String].self, from: data)
    }
}
