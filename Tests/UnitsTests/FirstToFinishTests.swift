import Synchronization
import Testing

import Units

/// The race the PostgreSQL lease's watch and the executor's bounded calls run: the first answer wins even while another wait ignores its
/// cancellation (as a query on a dead connection did), and a cancelled caller is not held.
struct FirstToFinishTests {
    /// A wait that ends only when the test says so, whatever its task's cancellation.
    final class Stubborn: Sendable {
        private let waiting = Mutex<CheckedContinuation<Void, Never>?>(nil)
        private let started = AsyncStream<Void>.makeStream()

        func wait() async {
            await withCheckedContinuation { c in
                waiting.withLock { $0 = c }
                started.continuation.yield()
            }
        }

        func hasStarted() async { for await _ in started.stream { return } }

        func end() { waiting.withLock { $0 }?.resume() }
    }

    @Test func theFirstAnswerWinsWhileAnotherWaitIgnoresCancellation() async {
        let stubborn = Stubborn()
        let answer = await firstToFinish(
            [
                {
                    await stubborn.wait()
                    return "stubborn"
                },
                {
                    await stubborn.hasStarted()
                    return "quick"
                },
            ], cancelled: "cancelled")
        #expect(answer == "quick")
        stubborn.end()
    }

    @Test func aCancelledCallerGetsItsAnswerAtOnce() async {
        let stubborn = Stubborn()
        let caller = Task {
            await firstToFinish([{
                await stubborn.wait()
                return "stubborn"
            }], cancelled: "cancelled")
        }
        await stubborn.hasStarted()
        caller.cancel()
        #expect(await caller.value == "cancelled")
        stubborn.end()
    }
}
