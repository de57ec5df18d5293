import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request is not read in full within `ConnectionLimits.readTimeout`:
/// counted from the opening of the connection for its first request and from the head of each
/// later one, so a client that stalls or trickles its headers or body cannot hold the
/// connection. Between requests the idle timeout applies instead (Hummingbird's own).
final class RequestReadDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State { case reading, answering, betweenRequests }

    private let timeout: TimeAmount
    private var state = State.reading
    private var deadline: Scheduled<Void>?

    init(timeout: Duration) {
        self.timeout = TimeAmount(timeout)
    }

    func handlerAdded(context: ChannelHandlerContext) { arm(context) }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head where state == .betweenRequests:
            state = .reading
            arm(context)
        case .end:
            state = .answering
            deadline?.cancel()
            deadline = nil
        default: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // An answer sent before its request was read in full (an error) leaves the deadline on.
        if case .end = unwrapOutboundIn(data), state == .answering { state = .betweenRequests }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard self?.state == .reading else { return }
            context.close(promise: nil)
        }
    }
}
