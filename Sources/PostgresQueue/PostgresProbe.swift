import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Queue

extension PostgresContainerStore {
    /// Connects once and closes: the URL parses, the server answers, and it accepts the
    /// credentials and the TLS mode. `open` starts with this; `check-config` calls it alone
    /// (it neither migrates nor listens). Errors name the URL with its password masked.
    ///
    ///     try await PostgresContainerStore.probe(url: "postgres://cd@db/queue?sslmode=require")
    public static func probe(url: String, logger: Logger = Logger(label: "queue")) async throws(QueueError) {
        let parsed: PostgresURL
        do { parsed = try PostgresURL(url) } catch { throw .unavailable(error.description) }
        try await connectOnce(parsed, logger: logger)
    }

    /// One direct connection: the pool would retry quietly for a minute, where an operator
    /// wants "connection refused" or "password authentication failed" at once.
    static func connectOnce(_ parsed: PostgresURL, logger: Logger) async throws(QueueError) {
        do {
            let probe = try await PostgresConnection.connect(configuration: parsed.connectionConfiguration(), id: 0, logger: logger)
            try await probe.close()
        } catch {
            throw .unavailable("cannot connect to queue database \(parsed): \(describeConnection(error))")
        }
    }

    /// A connection failure in the operator's words ("connection refused"), without the socket
    /// call it came from.
    static func describeConnection(_ error: any Error) -> String {
        if let psql = error as? PSQLError, psql.code == .sslUnsupported {
            return "the server does not offer TLS, which sslmode=require asks for"
        }
        if let psql = error as? PSQLError, psql.serverInfo?[.message] == nil, let underlying = psql.underlying {
            return describeConnection(underlying)
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if let failure = error as? NIOConnectionError {
            if let first = failure.connectionErrors.first { return describeConnection(first.error) }
            if failure.dnsAError != nil || failure.dnsAAAAError != nil { return "cannot resolve host \(failure.host)" }
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "no answer (connect timed out)" }
        return describe(error)
    }
}
