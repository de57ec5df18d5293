import NIOCore

/// Closing a connection whose client may still be sending: shut our side first, so the client
/// reads the answer instead of losing it to a TCP reset (a socket closed with unread input sends
/// RST), then drop what it still sends until it closes too, or `linger` has passed.
///
///     closing = true                                  // set first: closing fires events at once
///     LingeringClose.begin(context, linger: .seconds(2))
///     if closing { return }                           // in channelRead: drop the input
///     if closing && LingeringClose.isClientClose(event) { context.close(promise: nil) }
enum LingeringClose {
    static func begin(_ context: ChannelHandlerContext, linger: TimeAmount) {
        context.close(mode: .output, promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: linger) { context.close(promise: nil) }
    }

    /// The client has closed its side (read end-of-file).
    static func isClientClose(_ event: Any) -> Bool {
        if case ChannelEvent.inputClosed? = event as? ChannelEvent { return true }
        return false
    }
}
