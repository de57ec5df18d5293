import Dispatch
import Foundation

/// Runs a handler on each delivery of a signal (on a dispatch queue, not in a signal handler).
/// The signal's default action is turned off while it is watched.
// @unchecked: a dispatch source is thread-safe; the reference is set once.
final class SignalWatch: @unchecked Sendable {
    private let source: any DispatchSourceSignal

    init(_ signalNumber: Int32, handler: @escaping @Sendable () -> Void) {
        signal(signalNumber, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
    }

    func cancel() { source.cancel() }
}
