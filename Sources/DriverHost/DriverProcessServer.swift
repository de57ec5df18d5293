import Foundation
import Logging
import Synchronization

/// The driver process's side of `driver.isolation: process` (this executable's hidden
/// `driver-process` subcommand): loads one driver file and serves its operations to the daemon,
/// requests on fd 4, replies on fd 3 (`DriverProcessWire`), each call on the blocking pool as
/// in the daemon. Ends when the daemon closes fd 4; a crash of the driver ends it too, and the
/// daemon starts another.
public enum DriverProcessServer {
    public static let subcommand = "driver-process"

    /// Blocks the calling thread (not a cooperative one) until the daemon hangs up; returns the exit status.
    public static func serve(path: String, callTimeout: Duration, logger: Logger) -> Int32 {
        // Not inherited by what the driver starts (loopback's sshd): the daemon must see the
        // pipe end when this process dies, not when its last grandchild does.
        for fd: Int32 in [3, 4] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let replies = ReplyWriter(fd: 3)
        let loader = DriverLoader(pool: BlockingPool(name: "driver", threads: 8), logger: logger, callTimeout: callTimeout)
        let driver: NativeDriver
        switch loader.loadFile(path) {
        case .success(let loaded): driver = loaded
        case .failure(let refusal):
            replies.send(DriverProcessWire.Hello(refused: refusal.reason))
            return 1
        }
        replies.send(DriverProcessWire.Hello(ready: driver.info))
        let sets = OpenSets()
        while case .frame(let data) = Frames.read(4) {
            guard let request = Frames.decode(DriverProcessWire.Request.self, data) else {
                logger.error("driver process: unreadable request frame")
                return 2
            }
            Task {
                let outcome = await handle(request, driver: driver, sets: sets)
                switch outcome {
                case .success(let body): replies.send(DriverProcessWire.Reply(id: request.id, reply: body))
                case .failure(let error): replies.send(DriverProcessWire.Reply(id: request.id, error: .init(error)))
                }
            }
        }
        return 0
    }

    static func handle(
        _ request: DriverProcessWire.Request, driver: NativeDriver,
        sets: OpenSets
    ) async -> Result<String, DriverError> {
        let setID = request.set ?? ""
        do throws(DriverError) {
            if request.op == DriverProcessWire.closeSet {
                if let set = sets.table.withLock({ $0.removeValue(forKey: setID) }) { await set.close() }
                return .success("{}")
            }
            guard let operation = DriverOperation(rawValue: request.op) else {
                throw DriverError(.internal, "driver process: unknown operation \(request.op)", driver: driver.info.id, operation: request.op)
            }
            switch operation {
            case .capabilities:
                return .success(DriverJSON.encode(try await driver.capabilities()))
            case .openSet:
                let set = try await driver.openNativeInstanceSet(id: setID, config: request.body ?? "{}")
                let earlier = sets.table.withLock { sets in
                    defer { sets[setID] = set }
                    return sets[setID]
                }
                if let earlier { await earlier.close() }
                return .success("{}")
            default:
                guard let set = sets.table.withLock({ $0[setID] }) else {
                    throw DriverError(
                        .transient, "instance set \(setID) is not open in the driver process", driver: driver.info.id,
                        operation: request.op)
                }
                return .success(DriverJSON.encode(try await set.rawCall(operation, request.body ?? "{}")))
            }
        } catch {
            return .failure(error)
        }
    }

    /// The instance sets open in this process, by id.
    final class OpenSets: Sendable {
        let table = Mutex<[String: NativeInstanceSet]>([:])
    }

    /// Frames written from many tasks, one at a time.
    final class ReplyWriter: Sendable {
        let fd: Int32
        let lock = Mutex(())
        init(fd: Int32) { self.fd = fd }

        func send<T: Encodable>(_ message: T) {
            lock.withLock { _ in
                // The daemon gone: nothing to tell, and fd 4 ends the loop.
                try? Frames.write(fd, message)
            }
        }
    }
}
