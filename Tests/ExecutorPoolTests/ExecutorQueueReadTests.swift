import DriverHost
import ExecutorPool
import Queue
import Testing

/// An executor round reads what changed since the last one, not the whole active queue: the
/// first round reads it whole, the next ones the writes since (their own included), and a quiet
/// queue costs no rows at all. The view itself is `ActiveQueue`'s, checked against full reads
/// over random histories in `ChangeFeedViewTests`.
@Suite struct ExecutorQueueReadTests {
    @Test func roundsReadWhatChangedAndStillSeeEveryChange() async throws {
        let world = try ExecutorWorld(partitions: [.init(name: "batch", vcpus: 2, ram: 16 << 30)])
        for _ in 0..<5 { try await world.submit() }
        await world.tick()
        #expect(world.dispatcher.lastRead.fullRead && world.dispatcher.lastRead.rows == 5, "\(world.dispatcher.lastRead)")
        // The round's own writes (locks, statuses) come back as changes, then the queue is quiet.
        var rounds = 0
        repeat {
            await world.tick()
            rounds += 1
            #expect(!world.dispatcher.lastRead.fullRead)
        } while world.dispatcher.lastRead.rows > 0 && rounds < 10
        #expect(world.dispatcher.lastRead.rows == 0, "a quiet queue reads nothing after \(rounds) rounds")

        // A submit, a priority change and a job's end: each reaches the next round as a change.
        let late = try await world.submit(priority: 9)
        let running = try #require(world.backend.jobs.first)
        world.backend.end(running.id, .exited, exitCode: 0)
        await world.tick()
        #expect(!world.dispatcher.lastRead.fullRead && world.dispatcher.lastRead.rows == 1, "only the submit changed: \(world.dispatcher.lastRead)")
        let finished = try #require(running.tags["cloud-dispatch-container"])
        #expect(try await world.get(finished).state == .complete, "the ended job's container was recorded from the view")
        await world.tick()
        #expect(try world.job(of: late).partition == "batch", "the late, urgent submit was planned from the changes read")
        await world.close()
    }
}
