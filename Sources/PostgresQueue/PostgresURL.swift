import Foundation
import NIOSSL
import PostgresNIO

/// Parses `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
/// The password never appears in errors or logs.
public struct PostgresURL: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    var password: String?
    public var database: String?
    public var sslMode: String

    public init(_ text: String) throws(QueueErrorText) {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? "") else {
            throw QueueErrorText("database URL must look like postgres://user@host:5432/dbname")
        }
        guard let host = url.host, !host.isEmpty else { throw QueueErrorText("database URL has no host") }
        guard let user = url.user, !user.isEmpty else { throw QueueErrorText("database URL has no user name") }
        self.host = host
        self.port = url.port ?? 5432
        self.username = user
        self.password = url.password
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        self.database = path.isEmpty ? nil : path
        self.sslMode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard ["disable", "prefer", "require"].contains(sslMode) else {
            throw QueueErrorText("database URL sslmode must be disable, prefer or require")
        }
    }

    /// The URL with the password masked, for messages.
    public var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database ?? "")?sslmode=\(sslMode)"
    }

    /// A single connection's configuration, for the first contact (fails fast, with the reason).
    func connectionConfiguration() -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "require": tls = (try? .require(.init(configuration: .makeClientConfiguration()))) ?? .disable
        default: tls = (try? .prefer(.init(configuration: .makeClientConfiguration()))) ?? .disable
        }
        var config = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password,
            database: database, tls: tls)
        config.options.connectTimeout = .seconds(10)
        return config
    }

    func clientConfiguration() -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "disable": .disable
            case "require": .require(.makeClientConfiguration())
            default: .prefer(.makeClientConfiguration())
            }
        var config = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password,
            database: database, tls: tls)
        config.options.maximumConnections = 16
        return config
    }
}

/// A message-only error for configuration problems.
public struct QueueErrorText: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
