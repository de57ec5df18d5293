import Config
import Testing

/// One test per class of problem, each with its exact message.
@Suite struct ProblemTests {
    /// A valid type, for lists that need one before the one under test.
    let okType = "{name: ok, vcpus: 1, ram: 1GiB, price: 0}"

    @Test func unknownKeyNamesItsPath() {
        #expect(problems("""
            instance_types:
              - \(okType)
              - {name: big, vcpus: 2, vcpu: 4, ram: 2GiB, price: 1}
            """) == ["instance_types[1].vcpu: unknown member"])
        #expect(problems("worker: {ssh_user: admin}") == ["worker: unknown member"])
        #expect(problems("workers: {gpu: 1}\ndriver: {nmae: x}") == ["driver.nmae: unknown member", "workers.gpu: unknown member"])
    }

    @Test func wrongType() {
        #expect(problems("workers: {max_concurrent_probes: many}") == ["workers.max_concurrent_probes: expected integer, got string"])
        #expect(problems("instance_types: [{name: a, vcpus: 1, ram: true, price: 0}]")
            == ["instance_types[0].ram: expected integer or string, got boolean"])
        #expect(problems("scheduling: {idle_timeout: [1]}") == ["scheduling.idle_timeout: expected number or string, got array"])
        #expect(problems("driver: {config: [a]}") == ["driver.config: expected object, got array"])
        #expect(problems("instance_types: {name: a}") == ["instance_types: expected array, got object"])
    }

    @Test func duplicateTypeName() {
        #expect(problems("instance_types: [\(okType), {name: b, vcpus: 1, ram: 1GiB, price: 0}, \(okType)]")
            == ["instance_types[2].name: ok is used twice (also instance_types[0])"])
    }

    @Test func missingPriceSaysSo() {
        #expect(problems("instance_types: [{name: a, vcpus: 1, ram: 1GiB}]")
            == ["instance_types[0].price: missing: give the price per hour (0 if free); the scheduler picks types by it"])
    }

    @Test func missingRequiredMembers() {
        #expect(problems("instance_types: [{price: 1}]") == [
            "instance_types[0].name: required member missing", "instance_types[0].vcpus: required member missing",
            "instance_types[0].ram: required member missing",
        ])
        #expect(problems("instance_types: [{name: g, vcpus: 1, ram: 1GiB, price: 1, gpu: {count: 1}}]")
            == ["instance_types[0].gpu.stack: required member missing"])
        #expect(problems("instance_types: []") == ["instance_types: fewer than 1 items"])
    }

    @Test func negativeAndZeroValues() {
        #expect(problems("instance_types: [{name: a, vcpus: 0, ram: 0, scratch: -1, price: -0.5}]") == [
            "instance_types[0].price: -0.5 is below the minimum 0", "instance_types[0].vcpus: 0 is below the minimum 1",
            "instance_types[0].ram: must be more than 0 bytes", "instance_types[0].scratch: must not be negative",
        ])
        #expect(problems("instance_types: [{name: a, vcpus: 1, ram: 0GiB, price: 0}]") == ["instance_types[0].ram: must be more than 0 bytes"])
        #expect(problems("scheduling: {max_price_factor: 0.5, max_instances: 0, max_hourly_spend: 0, idle_timeout: -1}") == [
            "scheduling.max_instances: 0 is below the minimum 1", "scheduling.max_price_factor: 0.5 is below the minimum 1",
            "scheduling.max_hourly_spend: must be more than 0", "scheduling.idle_timeout: must not be negative",
        ])
        #expect(problems("workers: {probe_interval: 0, poll_interval: 0s, max_concurrent_probes: 0}") == [
            "workers.max_concurrent_probes: 0 is below the minimum 1",
            "workers.probe_interval: must be more than 0 seconds", "workers.poll_interval: must be more than 0 seconds",
        ])
    }

    @Test func takeoverAfterIsAPositiveDuration() throws {
        #expect(try #require(config("queue: {takeover_after: 90s}")).queue.takeoverAfter == 90)
        #expect(try #require(config("")).queue.takeoverAfter == 120)
        #expect(problems("queue: {takeover_after: 0}") == ["queue.takeover_after: must be more than 0 seconds"])
        #expect(problems("queue: {takeover_after: soon}").first?.hasPrefix("queue.takeover_after: ") == true)
    }

    @Test func zeroIsAllowedWhereItMeansSomething() throws {
        let c = try #require(config("scheduling: {idle_timeout: 0}\nworkers: {list_grace: 0s}\ninstance_types: [{name: a, vcpus: 1, ram: 1, price: 0}]"))
        #expect(c.scheduling.limits.idleTimeout == 0 && c.workers.listGrace == 0 && c.instanceTypes[0].price == 0)
    }

    @Test func addedScratchAboveScratch() {
        #expect(problems("instance_types: [{name: a, vcpus: 1, ram: 1GiB, price: 0, scratch: 10GiB, added_scratch: 20GiB}]")
            == ["instance_types[0].added_scratch: 20GiB is more than scratch (10GiB)"])
        #expect(problems("instance_types: [{name: a, vcpus: 1, ram: 1GiB, price: 0, added_scratch: 1}]")
            == ["instance_types[0].added_scratch: 1 is more than scratch (0)"])
    }

    @Test func badSizeString() {
        let units = "(bytes, or a number with B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)"
        #expect(problems("instance_types: [{name: a, vcpus: 1, ram: 4 gigs, price: 0, gpu: {count: 1, stack: rocm, vram: -1GiB}}]") == [
            "instance_types[0].ram: \"4 gigs\" is not a size \(units)", "instance_types[0].gpu.vram: \"-1GiB\" is not a size \(units)",
        ])
        #expect(problems("instance_types: [{name: a, vcpus: 1, ram: 99999999TiB, price: 0}]")
            == ["instance_types[0].ram: \"99999999TiB\" is too large (at most 8EiB)"])
    }

    @Test func badDuration() {
        let forms = "(seconds, or numbers with ms, s, m, h or d, e.g. 90s, 5m, 1h30m)"
        #expect(problems("workers: {boot_timeout: 10 minutes, term_timeout: 1h30, connect_timeout: 400d}") == [
            "workers.boot_timeout: \"10 minutes\" is not a duration \(forms)", "workers.term_timeout: \"1h30\" is not a duration \(forms)",
            "workers.connect_timeout: must be at most 366d",
        ])
        #expect(problems("scheduling: {idle_timeout: ''}") == ["scheduling.idle_timeout: \"\" is not a duration \(forms)"])
    }

    @Test func sshKeyMissing() {
        let dir = TempFolder()
        #expect(problems("workers: {ssh_key: keys/worker}", folder: dir.path) == ["workers.ssh_key: cannot read \(dir.path)/keys/worker"])
    }

    @Test func sshKeyReadableByOthers() {
        let dir = TempFolder()
        let key = dir.file("worker", mode: 0o640)
        #expect(problems("workers: {ssh_key: worker}", folder: dir.path)
            == ["workers.ssh_key: \(key) is readable or writable by group or others; run chmod 600"])
    }

    @Test func runtimeNotInTheList() {
        #expect(problems("workers: {runtime: lxc}") == ["workers.runtime: \"lxc\" is not one of none, docker, podman, auto"])
    }

    @Test func missingFilesAndFolders() {
        let dir = TempFolder()
        dir.file("not-a-folder")
        #expect(problems("driver: {plugins: not-a-folder}\nworkers: {runner_binary: /nonexistent/runner}", folder: dir.path) == [
            "driver.plugins: \(dir.path)/not-a-folder is not a folder", "workers.runner_binary: cannot read /nonexistent/runner",
        ])
    }

    @Test func namesThatCannotBeUsed() {
        #expect(problems("driver: {name: Loop-Back}") == ["driver.name: \"Loop-Back\" does not match ^[a-z][a-z0-9_]{0,31}$"])
        #expect(problems("instance_types: [{name: a b, vcpus: 1, ram: 1GiB, price: 0}]")
            == ["instance_types[0].name: \"a b\" does not match ^[A-Za-z0-9._-]+$"])
    }

    /// The dispatcher id is the drivers' instance-set id: a folder name in loopback's state_dir.
    @Test func dispatcherIDsThatAreNotOneFileName() {
        for bad in ["\"..\"", "\".\"", "a/b", ".hidden", "-x"] {
            #expect(problems("dispatcher_id: \(bad)").first?.hasPrefix("dispatcher_id: ") == true, "\(bad)")
        }
        #expect(problems("dispatcher_id: \"..\"") == ["dispatcher_id: \"..\" does not match ^[A-Za-z0-9][A-Za-z0-9._-]*$"])
        #expect(problems("dispatcher_id: prod.eu-1_a").isEmpty)
    }

    @Test func nonFiniteNumbersInTheDriverConfig() {
        #expect(problems("driver: {config: {limits: [1, .inf]}}") == ["driver.config.limits[1]: inf is not a number JSON can carry"])
    }

    @Test func severalProblemsAreAllReported() {
        let dir = TempFolder()
        let p = problems("""
            instance_types:
              - \(okType)
              - {name: ok, vcpus: 1, ram: lots, price: 0}
            workers:
              runtime: lxc
              boot_timeout: soon
              ssh_key: missing
            scheduling: {max_instances: -3, mystery: 1}
            """, folder: dir.path)
        #expect(p == [
            "scheduling.max_instances: -3 is below the minimum 1",
            "scheduling.mystery: unknown member",
            "workers.runtime: \"lxc\" is not one of none, docker, podman, auto",
            "instance_types[1].name: ok is used twice (also instance_types[0])",
            "instance_types[1].ram: \"lots\" is not a size (bytes, or a number with B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)",
            "workers.ssh_key: cannot read \(dir.path)/missing",
            "workers.boot_timeout: \"soon\" is not a duration (seconds, or numbers with ms, s, m, h or d, e.g. 90s, 5m, 1h30m)",
        ])
    }

    @Test func problemLinesNameTheFile() {
        guard case .failure(let p) = parse("workers: {runtime: lxc}") else {
            Issue.record("expected problems")
            return
        }
        #expect(p.lines == ["test.yml: workers.runtime: \"lxc\" is not one of none, docker, podman, auto"])
    }
}
