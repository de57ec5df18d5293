import Queue

/// What an `ActiveQueue` keeps of each container: made from its summary, found by its uuid. A
/// VM dispatcher keeps a prepared `Dispatcher.ActiveContainer`, an executor dispatcher the
/// summary itself.
public protocol ActiveQueueEntry: Sendable {
    init(_ summary: ContainerSummary)
    var uuid: String { get }
    /// The scheduling status the queue holds for it.
    var schedulingStatus: String? { get }
}

/// The planned statuses that differ from what the queue holds for the containers of `view`:
/// most waiting containers keep theirs for many rounds, and each change is a write.
public func statusesToWrite(_ planned: [String: String], over view: [some ActiveQueueEntry]) -> [String: String] {
    var changed: [String: String] = [:]
    for c in view {
        if let status = planned[c.uuid], status != c.schedulingStatus { changed[c.uuid] = status }
    }
    return changed
}

extension ContainerSummary: ActiveQueueEntry {
    public init(_ summary: ContainerSummary) { self = summary }
}

/// The active queue as a dispatcher last read it — Queued containers and those it holds
/// (Locked or Running by its id), in uuid order — kept between rounds, so that a round reads
/// only what changed since the last one instead of the whole queue. A full read starts it over
/// (with the cursor taken just before it); changes are applied on top.
///
///     var view = ActiveQueue<ContainerSummary>(dispatcher: "d1")
///     _ = try await view.refresh(from: store, full: true, now: now)     // the whole active queue
///     _ = try await view.refresh(from: store, full: false, now: later)  // what changed since
///     let containers = view.containers
struct ActiveQueue<Entry: ActiveQueueEntry>: Sendable {
    let dispatcher: String
    /// Drain mode (see `Dispatcher.drainOnly`): Queued containers are not in the view.
    let drainOnly: Bool
    /// In uuid order, one per container.
    private(set) var containers: [Entry] = []
    /// Where the next read of changes starts; nil: the next read is a full one.
    private(set) var cursor: ChangeCursor?
    /// The round time of the last full read.
    private(set) var fullReadAt = -Double.infinity

    init(dispatcher: String, drainOnly: Bool = false) {
        self.dispatcher = dispatcher
        self.drainOnly = drainOnly
    }

    /// Whether `c` is in a dispatcher's view: the one filter full reads and changes share.
    static func belongs(_ c: ContainerSummary, to dispatcher: String, drainOnly: Bool = false) -> Bool {
        switch c.state {
        case .queued: !drainOnly
        case .locked, .running: c.lockedBy == dispatcher
        case .complete, .cancelled: false
        }
    }

    /// Whether the next read must be a full one: none yet, or the last is `interval` old (or
    /// the clock went back).
    func needsFullRead(now: Double, interval: Double) -> Bool {
        cursor == nil || now - fullReadAt >= interval || now < fullReadAt
    }

    /// Brings the view up to date from `store`: what changed since the last read, or the whole
    /// active queue when `full` or when there was no read yet. Returns whether the read was a
    /// full one and how many containers it returned. After a throw, start over with a new view.
    mutating func refresh(from store: any ContainerStore, full: Bool, now: Double) async throws(QueueError) -> (fullRead: Bool, rows: Int) {
        if let cursor, !full {
            let changes = try await store.summaries(changedSince: cursor)
            apply(changes)
            return (false, changes.items.count)
        }
        let cursor = try await store.changeCursor()  // before the read: what changes during it comes next time
        var all: [ContainerSummary] = []
        var after: String?
        repeat {
            let page = try await store.summaries(ContainerQuery(states: [.queued, .locked, .running], after: after, limit: ContainerQuery.maxLimit))
            all += page.items
            after = page.next
        } while after != nil
        replaceAll(with: all, cursor: cursor, now: now)
        return (true, all.count)
    }

    /// Starts over from a full read (`summaries` in any order; those not in the view are skipped).
    mutating func replaceAll(with summaries: [ContainerSummary], cursor: ChangeCursor, now: Double) {
        containers = summaries.filter { Self.belongs($0, to: dispatcher, drainOnly: drainOnly) }.map { Entry($0) }
        containers.sort { $0.uuid < $1.uuid }  // a run already in order costs one pass
        self.cursor = cursor
        fullReadAt = now
    }

    /// Applies what changed: each container changed is updated, added or dropped as its summary
    /// says. Applying the same summary twice changes nothing.
    mutating func apply(_ changes: ContainerChanges) {
        var dropped = Set<Int>()
        var added: [String: Entry?] = [:]  // nil: changed, and not in the view
        for c in changes.items {
            let keep = Self.belongs(c, to: dispatcher, drainOnly: drainOnly)
            if let i = index(of: c.uuid) {
                if keep {
                    containers[i] = Entry(c)
                    dropped.remove(i)
                } else {
                    dropped.insert(i)
                }
            } else {
                added[c.uuid] = keep ? Entry(c) : .some(nil)
            }
        }
        cursor = changes.cursor
        let inserts = added.values.compactMap { $0 }.sorted { $0.uuid < $1.uuid }
        guard !dropped.isEmpty || !inserts.isEmpty else { return }
        if dropped.isEmpty, let first = inserts.first, containers.last.map({ $0.uuid < first.uuid }) ?? true {
            containers += inserts  // new submits: their uuids sort after every earlier one
            return
        }
        merge(dropping: dropped, inserting: inserts)
    }

    /// One pass over the view: `dropped` (positions) left out, `inserts` (in uuid order) merged in.
    private mutating func merge(dropping dropped: Set<Int>, inserting inserts: [Entry]) {
        var merged: [Entry] = []
        merged.reserveCapacity(containers.count - dropped.count + inserts.count)
        var next = 0
        for (i, c) in containers.enumerated() where !dropped.contains(i) {
            while next < inserts.count && inserts[next].uuid < c.uuid {
                merged.append(inserts[next])
                next += 1
            }
            merged.append(c)
        }
        merged += inserts[next...]
        containers = merged
    }

    /// The position of `uuid` in the view (binary search), if it is there.
    private func index(of uuid: String) -> Int? {
        var low = 0
        var high = containers.count
        while low < high {
            let mid = (low + high) / 2
            let here = containers[mid].uuid
            if here == uuid { return mid }
            if here < uuid { low = mid + 1 } else { high = mid }
        }
        return nil
    }
}
