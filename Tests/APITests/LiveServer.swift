import API
import APIClient
import Foundation
import Hummingbird
import Logging
import Queue
import SQLiteQueue

/// A real API server on 127.0.0.1 (port chosen by the kernel) over a fresh SQLite queue.
final class LiveServer: Sendable {
    static let submitterToken = "submitter-token-0123456789"
    static let adminToken = "admin-token-0123456789abcdef"

    let url: URL
    var port: Int { url.port! }
    let store: SQLiteContainerStore
    /// What /_health knows of the store's writes; probed when a test says so.
    let writeProbe: StoreWriteProbe
    private let task: Task<Void, any Error>
    private let folder: String

    private init(url: URL, store: SQLiteContainerStore, writeProbe: StoreWriteProbe, task: Task<Void, any Error>, folder: String) {
        self.url = url
        self.store = store
        self.writeProbe = writeProbe
        self.task = task
        self.folder = folder
    }

    static func start(maxBodyBytes: Int = 1 << 20, limits: ConnectionLimits = ConnectionLimits(),
                      management: (any ManagementService)? = nil) async throws -> LiveServer {
        var template = Array((NSTemporaryDirectory() + "/cdd-api-XXXXXX").utf8CString)
        let folder = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let store = try SQLiteContainerStore.open(path: folder + "/queue.sqlite3")
        let tokens = TokenTable([
            .init(name: "alice", role: .submitter, secret: submitterToken),
            .init(name: "ops", role: .admin, secret: adminToken),
        ])
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let writeProbe = StoreWriteProbe(store: store)
        let server = APIServer(store: store, tokens: tokens, maxBodyBytes: maxBodyBytes, limits: limits, management: management,
                               logger: logger, writeProbe: writeProbe)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = server.application(host: "127.0.0.1", port: 0) { port in continuation.yield(port) }
        let task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return LiveServer(url: URL(string: "http://127.0.0.1:\(port)")!, store: store, writeProbe: writeProbe, task: task, folder: folder)
    }

    func client(_ token: String? = LiveServer.adminToken) -> APIClient { APIClient(server: url, token: token) }

    func stop() async {
        task.cancel()
        _ = await task.result
        await store.close()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// Runs `body` against a fresh server and always stops it.
func withServer(maxBodyBytes: Int = 1 << 20, limits: ConnectionLimits = ConnectionLimits(), management: (any ManagementService)? = nil,
                _ body: (LiveServer) async throws -> Void) async throws {
    let server = try await LiveServer.start(maxBodyBytes: maxBodyBytes, limits: limits, management: management)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}
