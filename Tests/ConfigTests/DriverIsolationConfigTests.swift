import Config
import Testing

/// `driver.isolation` and `driver.load_timeout`: read, defaulted, and refused when wrong.
@Suite struct DriverIsolationConfigTests {
    @Test func defaultsToInProcessWithTenSecondsPerLoadStage() throws {
        let c = try #require(config("driver: {name: sim}"))
        #expect(c.driver.isolation == .inProcess)
        #expect(c.driver.loadTimeout == 10)
        #expect(c.driver.callTimeout == 120)
    }

    @Test func readsProcessIsolationAndALoadTimeout() throws {
        let c = try #require(config("driver: {name: sim, isolation: process, load_timeout: 2s, call_timeout: 5m}"))
        #expect(c.driver.callTimeout == 300)
        #expect(c.driver.isolation == .process)
        #expect(c.driver.loadTimeout == 2)
    }

    @Test func refusesAnUnknownIsolation() {
        let found = problems("driver: {name: sim, isolation: container}")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("driver.isolation:") == true, "\(found)")
    }
}
