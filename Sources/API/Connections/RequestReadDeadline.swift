import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request is not read in full within `ConnectionLimits.readTimeout`:
/// counted from the opening of the connection for its first request and from the head of each
/// later one (pipelined or not), so a client that stalls or trickles its headers or body cannot
/// hold the connection. Between requests the idle timeout applies instead (Hummingbird's own).
final class RequestReadDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: TimeAmount
    /// A request has begun (or the connection is new) and its end is not read yet.
    private var reading = true
    private var deadline: Scheduled<Void>?

    init(timeout: Duration) { self.timeout = TimeAmount(timeout) }

    func handlerAdded(context: ChannelHandlerContext) { arm(context) }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head where !reading:
            reading = true
            arm(context)
        case .end:
            reading = false
            deadline?.cancel()
            deadline = nil
        default: break
        }
        context.fireChannelRead(data)
    }

    private func arm(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard self?.reading == true else { return }
            context.close(promise: nil)
        }
    }
}
