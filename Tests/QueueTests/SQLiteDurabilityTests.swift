import Foundation
import GRDB
import Queue
@testable import SQLiteQueue
import Testing

/// What the SQLite store promises the API's `201`: a commit is on disk when it returns, and
/// the specs it holds are readable by the daemon's user only.
@Suite struct SQLiteDurabilityTests {
    @Test func everyConnectionSyncsEachCommitToDisk() async throws {
        let folder = StoreFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try SQLiteContainerStore.open(path: folder + "/queue.sqlite3")
        _ = try await store.submit([spec()])
        let full = 2  // PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL
        let writer = try await store.database.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        let reader = try await store.database.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(writer == full, "the writer commits with synchronous=\(writer ?? -1)")
        #expect(reader == full, "a reader connection has synchronous=\(reader ?? -1)")
        await store.close()
    }

    @Test func theQueueFilesAreReadableByTheirOwnerOnly() async throws {
        let folder = StoreFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/queue.sqlite3"
        let store = try SQLiteContainerStore.open(path: path)
        _ = try await store.submit([ContainerSpec(command: ["true"], environment: ["SECRET": "s3cr3t"])])
        for file in [path, path + "-wal", path + "-shm", path + ".lock"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file) missing")
            #expect(mode(file) == 0o600, "\(file) has mode \(String(mode(file), radix: 8))")
        }
        await store.close()
    }

    @Test func filesLeftReadableByAnOlderVersionAreTightened() async throws {
        let folder = StoreFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/queue.sqlite3"
        let first = try SQLiteContainerStore.open(path: path)
        _ = try await first.submit([spec()])
        await first.close()
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) { chmod(file, 0o644) }
        let second = try SQLiteContainerStore.open(path: path)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            #expect(mode(file) == 0o600, "\(file) has mode \(String(mode(file), radix: 8))")
        }
        #expect(try await second.list(ContainerQuery()).items.count == 1)
        await second.close()
    }

    private func mode(_ path: String) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { return -1 }
        return Int(info.st_mode & 0o777)
    }
}
