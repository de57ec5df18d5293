import Config
import JSON
import Testing

/// The loopback driver's config: what the host fills in when `driver.config` gives only part of it.
@Suite struct LoopbackDriverConfigTests {
    /// examples/local.yml's commented alternative: every create used to fail with
    /// `unknown type "local-small"` because a given config replaced the filled-in catalogue.
    @Test func aGivenStateDirKeepsTheConfiguredTypesAsTheCatalogue() throws {
        let c = try #require(config("""
            driver: {name: loopback, config: {state_dir: ../out/lb, sshd_path: /usr/sbin/sshd}}
            instance_types: [{name: local-small, vcpus: 1, ram: 1GiB, price: 0.01}, {name: big, provider_type: huge, vcpus: 8, ram: 8GiB, price: 1}]
            """, folder: "/etc/cd"))
        let effective = c.effectiveDriverConfig
        #expect(effective["state_dir"] == .string("/etc/cd/../out/lb"))
        #expect(effective["sshd_path"] == .string("/usr/sbin/sshd"))
        guard case .array(let catalogue)? = effective["instance_types"] else { Issue.record("no catalogue: \(effective)"); return }
        #expect(catalogue.compactMap { $0["provider_type"] } == [.string("local-small"), .string("huge")])
    }

    @Test func aGivenCatalogueIsKeptAsIs() throws {
        let given: JSONValue = .array([.object(["provider_type": .string("x"), "vcpus": .integer(1), "ram": .integer(1 << 30)])])
        let c = try #require(config("driver: {config: {instance_types: [{provider_type: x, vcpus: 1, ram: 1073741824}]}}"))
        #expect(c.effectiveDriverConfig["instance_types"] == given)
        #expect(c.effectiveDriverConfig["state_dir"] == .string("/etc/cd/state/loopback"))
    }

    @Test func theDumpShowsWhatIsFilledIn() throws {
        let c = try #require(config("driver: {config: {state_dir: /srv/lb, api_token: hunter2hunter2}}"))
        let dump = ConfigLoader.dump(c)
        #expect(dump.contains("# filled in, the driver gets "), "\(dump)")
        #expect(dump.contains("\"provider_type\": \"local-small\""), "\(dump)")
        #expect(!dump.contains("hunter2hunter2"))
    }

    @Test func anotherDriversConfigIsPassedUntouched() throws {
        let c = try #require(config("driver: {name: sim, config: {state_dir: rel}}"))
        #expect(c.effectiveDriverConfig == .object(["state_dir": .string("rel")]))
    }
}
