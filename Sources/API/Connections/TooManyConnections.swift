import NIOCore

/// The first handler of a connection over `max_connections`: answers 503 before any request is
/// read, so the client learns why instead of waiting in the kernel's backlog, then closes.
final class TooManyConnections: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let maximum: Int
    private var closing = false

    init(maximum: Int) { self.maximum = maximum }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
        context.fireChannelActive()
    }

    /// The request is never read.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if closing && LingeringClose.isClientClose(event) { return context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    private func refuse(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        let body =
            #"{"error":{"code":"too_many_connections","message":"the API serves at most \#(maximum) connections at once "#
            + #"(api.max_connections); retry shortly"}}"#
        let head =
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
            + "retry-after: 1\r\nconnection: close\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: head + body)), promise: nil)
        LingeringClose.begin(context, linger: .seconds(1))
    }
}
