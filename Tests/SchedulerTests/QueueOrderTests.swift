@testable import Scheduler
import Testing

/// The waiting order: Locked before Queued, higher priority first, then first submitted, then
/// uuid. The pass sorts ranks by position for speed; it must give exactly `waitingFirst`'s order.
@Suite struct QueueOrderTests {
    @Test func lockedThenPriorityThenAgeThenUUID() {
        let given = [
            demand("q-old", priority: 1, at: 1), demand("q-new", priority: 1, at: 2), demand("q-urgent", priority: 9, at: 3),
            demand("l-new", .locked, priority: 1, at: 5), demand("b", priority: 1, at: 2), demand("a", priority: 1, at: 2),
        ]
        #expect(QueueOrder.sortedWaiting(given).map(\.uuid) == ["l-new", "q-urgent", "q-old", "a", "b", "q-new"])
    }

    /// Many ties (few priorities and submit times, as batch submits make): the same order as
    /// sorting the containers themselves by `waitingFirst`, for several scrambled queues.
    @Test(arguments: [1, 2, 3])
    func sortingRanksByPositionGivesTheDefinedOrder(seed: Int) {
        let given = (0..<2000).map { i in
            let h = (i &* 2_654_435_761 &+ seed &* 40_503) & 0xFFFF_FFFF  // a scramble of i, different per seed
            return demand("c\(h % 997)-\(i)", h % 4 == 0 ? .locked : .queued, priority: (h >> 3) % 3, at: Double((h >> 7) % 20))
        }
        #expect(QueueOrder.sortedWaiting(given).map(\.uuid) == given.sorted(by: QueueOrder.waitingFirst).map(\.uuid))
    }
}
