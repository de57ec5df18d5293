import API
import APIModels
import Foundation
import Queue
import Testing

/// The "why?" sentence of `explain`, from the facts alone: no daemon, no dispatcher.
@Suite struct ExplanationTests {
    let small = ContainerExplanation.TypeVerdict(name: "small", price: 0.1, eligible: true, reason: "fits", blocked: nil)
    let tiny = ContainerExplanation.TypeVerdict(name: "tiny", price: 0.05, eligible: false, reason: "2 vCPUs > 1", blocked: nil)

    func container(_ state: ContainerState, priority: Int = 1) -> Container {
        var c = ContainerFactory.make(ContainerSpec(command: ["true"], priority: priority), now: Date(timeIntervalSince1970: 1000))
        c.state = state
        return c
    }

    @Test func aWaitingContainerGetsItsSchedulingStatus() {
        let e = ContainerExplanation(container(.queued), status: "at max_instances (3); 2 waiting ahead of it", position: 3, queueLength: 9,
                                     types: [tiny, small])
        #expect(e.summary == "at max_instances (3); 2 waiting ahead of it")
        #expect(e.position == 3 && e.queueLength == 9 && e.state == "Queued" && e.types == [tiny, small])
        #expect(ContainerExplanation(container(.locked), status: nil, position: 1, queueLength: 1, types: [small]).summary
            == "waiting for the next scheduling round")
    }

    @Test func whyItCannotRun() {
        #expect(ContainerExplanation(container(.queued, priority: 0), status: "x", position: nil, queueLength: 4, types: [small]).summary
            == "priority 0: it waits until its priority is raised")
        let nothingFits = ContainerExplanation(container(.queued), status: nil, position: nil, queueLength: 4, types: [tiny])
        #expect(nothingFits.summary == "no configured instance type can run it (see types)")
        #expect(nothingFits.queueLength == nil, "no queue length without a place in it")
    }

    @Test func howItEndedOrWhereItRuns() {
        var done = container(.complete)
        (done.exitCode, done.instance) = (3, "small i-1")
        (done.startedAt, done.finishedAt) = (Date(timeIntervalSince1970: 1000), Date(timeIntervalSince1970: 1012.5))
        #expect(ContainerExplanation.summary(done, status: nil, anyEligible: true) == "completed with exit code 3 on small i-1 after 12.5 s")
        var cancelled = container(.cancelled)
        cancelled.runtimeStatus.error = "cannot run: no instance type fits"
        #expect(ContainerExplanation.summary(cancelled, status: nil, anyEligible: false) == "cancelled: cannot run: no instance type fits")
        #expect(ContainerExplanation.summary(container(.cancelled), status: nil, anyEligible: true) == "cancelled: no reason recorded")
        var running = container(.running)
        running.instance = "small i-2"
        #expect(ContainerExplanation.summary(running, status: "stale", anyEligible: true) == "running on small i-2")
    }
}
