import Foundation
import Logging

/// The daemon's signals besides the HTTP server's own: SIGHUP reloads the configuration and
/// looks at the plugins folder again (`DriverFolderWatch`);
/// SIGTERM and SIGINT tell systemd it is stopping and stop the dispatcher loop after the round
/// in flight (no new creates), while the server drains its requests.
struct ServeSignals {
    private let watches: [SignalWatch]

    init(reloader: ConfigReloader, drivers: DriverFolderWatch?, dispatching: Task<Void, Never>?, logger: Logger) {
        let hangup = SignalWatch(SIGHUP) {
            logger.notice("SIGHUP: reloading the configuration")
            reloader.reloadInBackground()
            drivers?.rescanInBackground()
        }
        let stop: @Sendable () -> Void = {
            SystemdNotify.send("STOPPING=1")
            dispatching?.cancel()
        }
        watches = [hangup, SignalWatch(SIGTERM, handler: stop), SignalWatch(SIGINT, handler: stop)]
    }

    func cancel() { watches.forEach { $0.cancel() } }
}
