import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Honours `Connection: close` on a response (Hummingbird only honours it on requests): once the
/// answer is sent the connection closes, lingering so a client still sending its body (after a
/// 413) reads the answer first.
final class CloseAfterResponse: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let linger: TimeAmount
    private var closeAfterEnd = false
    private var closing = false

    init(linger: TimeAmount) { self.linger = linger }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !closing { context.fireChannelRead(data) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if closing && LingeringClose.isClientClose(event) { return context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            closeAfterEnd = head.headerFields[.connection]?.lowercased() == "close"
            context.write(data, promise: promise)
        case .end where closeAfterEnd:
            context.writeAndFlush(data, promise: promise)
            guard !closing else { return }
            closing = true
            LingeringClose.begin(context, linger: linger)
        default:
            context.write(data, promise: promise)
        }
    }
}
