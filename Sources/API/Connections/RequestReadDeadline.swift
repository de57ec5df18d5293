import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request is not read in full within `ConnectionLimits.readTimeout`:
/// counted from the opening of the connection for its first request and from the head of each
/// later one (pipelined or not), so a client that stalls or trickles its headers or body cannot
/// hold the connection. Between requests the idle timeout applies instead (Hummingbird's own).
/// Answers owed for requests read in full are sent first: a stalled request behind them does not
/// cost them their answer, however slow the handler is.
final class RequestReadDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    /// A request has begun (or the connection is new) and its end is not read yet.
    private var reading = true
    private var deadline: Scheduled<Void>?
    /// Requests read in full whose answer is not written yet.
    private var answersOwed = 0
    /// The deadline passed while answers were owed: close once they are written.
    private var closeWhenAnswered = false

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
            answersOwed += 1
            deadline?.cancel()
            deadline = nil
        default: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        answersOwed = max(0, answersOwed - 1)
        guard closeWhenAnswered && answersOwed == 0 else { return context.write(data, promise: promise) }
        let written = context.writeAndFlush(data)
        written.cascade(to: promise)
        written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private func arm(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, self.reading else { return }
            if self.answersOwed > 0 {
                self.closeWhenAnswered = true
            } else {
                context.close(promise: nil)
            }
        }
    }
}
