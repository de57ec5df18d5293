import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 connection with the API's guards: at most `maxConnections` at once (the
/// rest answered 503), a read deadline per request, the idle timeout between requests, and
/// `Connection: close` honoured on responses.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let connections: ConnectionCount

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ConnectionLimits) {
        let readTimeout = limits.readTimeout
        http1 = HTTP1Channel(
            responder: responder,
            configuration: .init(
                additionalChannelHandlers: [RequestReadDeadline(timeout: readTimeout), CloseAfterResponse(linger: .seconds(2))],
                idleTimeout: .init(limits.idleTimeout)))
        connections = ConnectionCount(maximum: limits.maxConnections)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let connections = connections
        if !connections.open() {
            logger.debug("connection refused: api.max_connections reached", metadata: ["max_connections": "\(connections.maximum)"])
            do {
                try channel.pipeline.syncOperations.addHandler(TooManyConnections(maximum: connections.maximum), position: .first)
            } catch {
                channel.close(promise: nil)
            }
        }
        channel.closeFuture.whenComplete { _ in connections.close() }
        return http1.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the API's connection guards.
    static func guardedHTTP1(_ limits: ConnectionLimits) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in GuardedHTTP1Channel(responder: responder, limits: limits) }
    }
}
