import DriverConformance
import DriverHost
import Foundation
import Testing

/// A cloud that throttles a third of all calls: the kit waits each throttle out and judges the
/// driver, not the luck of the draw. (Before, whichever check met a `rate_limit` failed with it.)
@Suite struct KitThrottleTests {
    @Test func everyCheckPassesThroughThrottling() async throws {
        let config = #"{"seed": 7, "rate_limit_rate": 0.3, "retry_after_ms": 5}"#
        var kit = ConformanceKit(driver: try Harness.load("libcdd_sim.so", as: "libcdd_sim.so"), config: config)
        kit.retryDelay = RetryDelay(initial: .milliseconds(5), cap: .milliseconds(50))
        kit.settle = .seconds(30)
        let report = await kit.run()
        #expect(report.succeeded, "\(report.table())")
        #expect(report.check("create count=1")?.outcome == .pass, "\(report.table())")
    }
}
