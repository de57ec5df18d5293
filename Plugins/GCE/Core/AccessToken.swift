import DriverSupport
import Foundation
import Synchronization

/// Where bearer tokens come from. [thread-safe] [may-block]
public protocol TokenSource: Sendable {
    /// What the logs and errors call it ("service account x@y", "metadata server").
    var name: String { get }
    /// A fresh token and its lifetime in seconds.
    func fetch() throws(DriverError) -> (token: String, expiresIn: Int)
}

/// A token source behind a cache: the token is reused until `refreshMargin` seconds before it
/// expires; one thread refreshes while the others wait for its result.
public final class CachedToken: Sendable {
    public let source: any TokenSource
    let clock: @Sendable () -> Int
    /// Refresh this long before expiry (Google's libraries use 3m45s; a call may take a while).
    static let refreshMargin = 300
    private let state = Mutex<(token: String, expiresAt: Int)?>(nil)
    private let refreshing = Mutex<Void>(())

    public init(source: any TokenSource, clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.source = source
        self.clock = clock
    }

    public func token() throws(DriverError) -> String {
        if let fresh = current() { return fresh }
        return try refreshing.withLock { _ throws(DriverError) -> String in
            if let fresh = current() { return fresh }  // another thread refreshed meanwhile
            let got = try source.fetch()
            state.withLock { $0 = (got.token, clock() + got.expiresIn) }
            return got.token
        }
    }

    /// Forget the token (the API called it invalid): the next call fetches another.
    public func invalidate() { state.withLock { $0 = nil } }

    private func current() -> String? {
        state.withLock { s in
            guard let s, clock() < s.expiresAt - Self.refreshMargin else { return nil }
            return s.token
        }
    }
}

/// Reads an OAuth token reply: `{"access_token", "expires_in", "token_type"}`.
enum TokenReply {
    static func parse(_ response: HTTPResponse, from what: String) throws(DriverError) -> (token: String, expiresIn: Int) {
        let body = JSONValue.parse(response.body)
        guard response.status == 200 else {
            let code = body?["error"].string ?? ""
            let detail = body?["error_description"].string ?? String(decoding: response.body.prefix(200), as: UTF8.self)
            let cls: ErrorClass = response.status >= 500 ? .transient : response.status == 429 ? .rateLimit : .auth
            throw DriverError(cls, "\(what): \(code.isEmpty ? "" : code + ": ")\(detail)", code: code, httpStatus: response.status)
        }
        guard let token = body?["access_token"].string, !token.isEmpty else {
            throw DriverError(.auth, "\(what): reply without access_token", httpStatus: response.status)
        }
        let expiresIn = body?["expires_in"].int.map(Int.init) ?? 3600
        return (token, max(0, expiresIn))
    }
}
