import PluginABI
import Synchronization

/// The handle the host holds: the cloud until close_set, then nothing. The box itself is never
/// freed, so a call after close_set, or a second close_set, finds it empty instead of freed
/// memory (docs/driver-abi.md §7a).
final class SetBox: Sendable {
    let setID: String
    private let state: Mutex<MemoryCloud?>

    init(_ cloud: MemoryCloud) {
        setID = cloud.setID
        state = Mutex(cloud)
    }

    var cloud: MemoryCloud? { state.withLock { $0 } }
    func close() { state.withLock { $0 = nil } }
}

/// A refusal: the ABI status and a message naming the field.
struct DriverFailure: Error {
    let status: cdd_status
    let message: String
    init(_ status: cdd_status, _ message: String) {
        self.status = status
        self.message = message
    }
}
