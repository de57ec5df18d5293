import Testing
@testable import Scheduler

/// `explain`'s judgement of each type agrees with the scheduler's and says why in words.
@Suite struct TypeVerdictTests {
    let eligibility = Eligibility(types: [small, medium, large, smallSpot, gpu], maxPriceFactor: 1.5)

    func verdict(_ d: ContainerDemand, _ name: String, backoff: Backoff = Backoff()) -> TypeVerdict? {
        eligibility.verdicts(for: d, backoff: backoff, now: 100).first { $0.type.name == name }
    }

    @Test func theCheapestFitAndThePriceBand() {
        let d = demand("c", vcpus: 2, ram: 3 * GiB)
        #expect(verdict(d, "small")?.eligible == true)
        #expect(verdict(d, "small")?.reason == "the cheapest that fits")
        #expect(verdict(d, "medium")?.eligible == false)
        #expect(verdict(d, "medium")?.reason == "fits, but costs 0.2/h, over 1.5× the cheapest that fits (small, 0.1/h)")
        // The verdicts say exactly what the scheduler's answer says.
        guard case .eligible(let types) = eligibility.answer(for: d) else { Issue.record("no answer"); return }
        #expect(Set(types.map(\.name)) == Set(eligibility.verdicts(for: d).filter(\.eligible).map(\.type.name)))
    }

    @Test func everyRefusalNamesItsCause() {
        let big = demand("c", vcpus: 8, ram: 20 * GiB)
        #expect(verdict(big, "small")?.reason == "too small: 8 vCPUs > 2, 20GiB RAM > 3.8GiB usable")
        #expect(verdict(big, "small-spot")?.reason == "preemptible, and the container is not")
        #expect(verdict(big, "medium")?.reason == "too small: 8 vCPUs > 4, 20GiB RAM > 15.2GiB usable")
        var allowList = demand("c")
        allowList.allowedTypes = ["large"]
        #expect(verdict(allowList, "small")?.reason == "not in the container's instance_types")
        #expect(verdict(allowList, "large")?.eligible == true)
        var spot = demand("c")
        spot.preemptible = true
        #expect(verdict(spot, "small")?.reason == "on-demand, and the container asks for preemptible")
        #expect(verdict(spot, "small-spot")?.eligible == true)
        var rocm = demand("c")
        rocm.needs.gpus = 1
        rocm.gpuStack = "rocm"
        #expect(verdict(rocm, "gpu")?.reason == "no rocm GPUs")
    }

    @Test func aBackOffShowsOnTheTypeItBlocks() {
        var backoff = Backoff()
        backoff.record(.capacityType, type: small, now: 90)
        let v = verdict(demand("c"), "small", backoff: backoff)
        #expect(v?.eligible == true)
        #expect(v?.blocked?.hasPrefix("no cloud capacity for small until") == true, "\(v?.blocked ?? "nil")")
        #expect(verdict(demand("c"), "medium", backoff: backoff)?.blocked == nil)
    }
}
