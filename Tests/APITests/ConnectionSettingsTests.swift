import API
import Config
import Testing

/// The `api:` keys of the configuration file that guard connections.
@Suite struct ConnectionSettingsTests {
    func parse(_ yaml: String) -> Result<Configuration, ConfigLoader.Problems> {
        ConfigLoader.parse(yaml, file: "c.yml", folder: "/etc/cd", environment: [:])
    }

    @Test func defaultsMatchTheServers() throws {
        let api = try parse("").get().api
        #expect(api.readTimeout == 30 && api.idleTimeout == 60 && api.maxConnections == 4096)
        let limits = ConnectionLimits()
        #expect(limits.readTimeout == .seconds(api.readTimeout) && limits.idleTimeout == .seconds(api.idleTimeout))
        #expect(limits.maxConnections == api.maxConnections)
    }

    @Test func readAndDumped() throws {
        let config = try parse("api: {read_timeout: 5s, idle_timeout: 2m, max_connections: 100}").get()
        #expect(config.api.readTimeout == 5 && config.api.idleTimeout == 120 && config.api.maxConnections == 100)
        let dump = ConfigLoader.dump(config)
        #expect(dump.contains("read_timeout: 5s") && dump.contains("idle_timeout: 2m") && dump.contains("max_connections: 100"), "\(dump)")
        #expect(try parse(dump).get() == config)
    }

    @Test(arguments: [
        ("api: {read_timeout: soon}", "api.read_timeout: \"soon\" is not a duration"),
        ("api: {idle_timeout: 0}", "api.idle_timeout: must be more than 0 seconds"),
        ("api: {max_connections: 0}", "api.max_connections"),
    ])
    func badValuesAreNamed(yaml: String, problem: String) {
        guard case .failure(let problems) = parse(yaml) else {
            Issue.record("\(yaml) was accepted")
            return
        }
        #expect(problems.items.contains { $0.contains(problem) }, "\(problems.items)")
    }
}
