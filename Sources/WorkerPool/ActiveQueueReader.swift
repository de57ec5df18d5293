import Queue
import Synchronization

/// A dispatcher's `ActiveQueue`, kept between rounds and brought up to date by each: what
/// changed since the last round, or the whole active queue (the first round, after a read
/// error, every `fullReadInterval` of the round clock, and when asked).
///
///     let queue = ActiveQueueReader<ContainerSummary>(dispatcher: "d1", fullReadInterval: 300)
///     let (containers, fullRead, rows) = try await queue.read(from: store, now: now)
public final class ActiveQueueReader<Entry: ActiveQueueEntry>: Sendable {
    private let view: Mutex<ActiveQueue<Entry>>
    private let fullReadAsked = Mutex(false)
    private let dispatcher: String
    private let drainOnly: Bool
    /// Seconds of the round clock between full reads.
    private let fullReadInterval: Double

    /// `drainOnly`: Queued containers are left out (see `Dispatcher.drainOnly`). A full read
    /// every 5 minutes by default: the change feed misses nothing, and this bounds what a fault
    /// outside it (a row edited by hand with the trigger disabled) could hide.
    public init(dispatcher: String, drainOnly: Bool = false, fullReadInterval: Double = 300) {
        self.dispatcher = dispatcher
        self.drainOnly = drainOnly
        self.fullReadInterval = fullReadInterval
        view = Mutex(ActiveQueue(dispatcher: dispatcher, drainOnly: drainOnly))
    }

    /// Where the view stands in the change feed (nil before the first read, and during one).
    public var cursor: ChangeCursor? { view.withLock { $0.cursor } }

    /// The next read is a full one.
    public func readWholeQueueNextRound() {
        fullReadAsked.withLock { $0 = true }
    }

    /// Queued containers (none in drain mode) and those the dispatcher holds, in uuid order;
    /// whether the read was a full one, and how many containers it returned. One round reads
    /// at a time.
    public func read(from store: any ContainerStore, now: Double) async throws(QueueError) -> (containers: [Entry], fullRead: Bool, rows: Int) {
        // Taken out while the round reads: if the read fails, what stays behind is an empty
        // view, which the next read fills with a full read.
        var taken = view.withLock { held in
            let taken = held
            held = ActiveQueue(dispatcher: dispatcher, drainOnly: drainOnly)
            return taken
        }
        let asked = fullReadAsked.withLock { asked in
            defer { asked = false }
            return asked
        }
        let (full, rows) = try await taken.refresh(from: store, full: asked || taken.needsFullRead(now: now, interval: fullReadInterval), now: now)
        let containers = taken.containers
        view.withLock { $0 = taken }
        return (containers, full, rows)
    }
}
