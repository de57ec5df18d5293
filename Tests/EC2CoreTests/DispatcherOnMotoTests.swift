import APIClient
import DriverHost
import DriverSupport
import EC2Core
import Foundation
import Logging
import Queue
import Testing
import TestSupport

/// The whole dispatcher on EC2-via-moto: `cloud-dispatch serve` loads the built libcdd_ec2.so
/// and creates, lists, tags and destroys through moto. moto's instances have addresses nothing
/// answers on, so no worker ever boots: the boot timeout must shut every one down, the
/// container must never run, and once it is cancelled nothing tagged with the dispatcher's id
/// may be left. Watched from outside through the driver (as the host sees it) and through
/// moto's own record, which keeps terminated instances.
extension MotoScenarioTests {
    /// What the test saw while it polled.
    struct Watch {
        var firstSeen: [String: Date] = [:]
        var types: Set<String> = []
        var containerStates: Set<ContainerState> = []
        var listed: Set<String> = []

        var gone: [String] { firstSeen.keys.filter { !listed.contains($0) }.sorted() }
    }

    @Test func dispatcherShutsDownUnreachableWorkersAtTheBootTimeout() async throws {
        let started = Date()
        let moto = try MotoPeer.endpoint()
        let dispatcherID = "moto-\(run)"
        let setTag = ["cloud-dispatch-instance-set": dispatcherID]
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugins = try pluginsFolder(in: folder)
        let driverConfig = #"{"region": "us-east-1", "endpoint": "\#(moto)", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "moto", "image": "ami-760aaa0f", "use_instance_role": false}"#
        // runner_binary: any existing file will do, the workers are never reached to deploy it.
        try """
            dispatcher_id: \(dispatcherID)
            driver: {name: ec2, plugins: \(plugins), config: \(driverConfig)}
            instance_types:
              - {name: micro, provider_type: t3.micro, vcpus: 2, ram: 1GiB, price: 0.0104}
              - {name: small, provider_type: t3.small, vcpus: 2, ram: 2GiB, price: 0.0208}
            scheduling: {idle_timeout: 2s}
            workers: {boot_timeout: 3s, probe_interval: 1s, poll_interval: 1s, connect_timeout: 1s, command_timeout: 2s,
                      shutdown_retry: 2s, runner_binary: /bin/true}
            """.write(toFile: folder + "/config.yml", atomically: true, encoding: .utf8)

        // The observer: the same driver, loaded by the host's loader, in a set of its own.
        let loader = DriverLoader(pool: BlockingPool(name: "ec2-observer", threads: 2),
                                  logger: Logging.Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let report = loader.loadNow(folder: plugins)
        let driver = try #require(report.driver(id: "ec2"), "\(report.refused)")
        let observer = try await driver.openNativeInstanceSet(id: "observer-\(run)", config: driverConfig)
        let (motoView, _) = try MotoPeer.set("observer-\(run)", endpoint: moto)

        let daemon = try ServeProcess(config: folder + "/config.yml", stateDir: folder + "/state")
        var watch = Watch()
        do {
            guard await daemon.ready() else { throw MotoError("the daemon did not start:\n\(daemon.log)") }
            let client = try daemon.client()
            var big = ContainerSpec(command: ["true"])
            big.runtimeConstraints.ram = 1536 << 20  // fits a t3.small only
            let uuids = try await client.submit([ContainerSpec(command: ["true"]), big]).map(\.uuid)

            // Instances appear, and each is destroyed once the boot timeout passes; the queued
            // containers then get new ones. Watch until two have come and gone.
            let cycled = try await poll(seconds: 60, observer: observer, tags: setTag, client: client, uuids: uuids, watch: &watch) { w in
                w.gone.count >= 2
            }
            #expect(cycled, "instances seen: \(watch.firstSeen.keys.sorted()), still listed: \(watch.listed.sorted())\n\(daemon.log.suffix(4000))")
            // The reason the daemon logged proves the boot timeout shut each one down (how long the
            // observer happened to see it listed depends on its polling, not on the dispatcher).
            for id in watch.gone {
                let reason = daemon.log.split(separator: "\n").first { $0.contains(id) && $0.contains("instance shut down") }
                #expect(reason?.contains("did not boot within 3s") == true, "\(id): \(reason ?? "no shutdown logged")")
            }

            for uuid in uuids { _ = try await client.cancel(uuid, reason: "test: the workers never boot") }
            // Everything tagged goes, and stays gone (a create in flight at the cancel is destroyed too).
            let emptied = try await poll(seconds: 30, observer: observer, tags: setTag, client: client, uuids: uuids, watch: &watch) { $0.listed.isEmpty }
            #expect(emptied, "still listed after the cancel: \(watch.listed.sorted())\n\(daemon.log.suffix(4000))")
            _ = try await poll(seconds: 5, observer: observer, tags: setTag, client: client, uuids: uuids, watch: &watch) { _ in false }
            #expect(watch.listed.isEmpty, "listed again after the cancel: \(watch.listed.sorted())")
            for uuid in uuids { #expect(try await client.get(uuid).state == .cancelled) }
        } catch {
            await daemon.stop()
            await cleanUp(observer, setTag)
            throw error
        }
        #expect(await daemon.stop() == 0, "\(daemon.log.suffix(4000))")
        #expect(!watch.containerStates.contains(.running), "a container was marked Running: \(watch.containerStates)")

        // moto's own record: every instance the dispatcher made is terminated.
        var p = QueryParams(action: "DescribeInstances")
        p.filters([("tag:cloud-dispatch-instance-set", [dispatcherID])])
        let record = EC2Instance.all(in: try motoView.client.call(p))
        let states = Dictionary(grouping: record, by: \.state).mapValues(\.count)
        #expect(Set(record.map(\.id)).isSuperset(of: watch.firstSeen.keys), "listed by the driver but unknown to moto")
        #expect(record.count >= 2 && states == ["terminated": record.count], "moto's record: \(states)")
        // Each container got the cheapest type that fits it: the configured catalogue reached EC2.
        #expect(Set(record.map(\.type)) == ["t3.micro", "t3.small"] && watch.types == ["t3.micro", "t3.small"])
        await cleanUp(observer, setTag)
        print("dispatcher on moto: \(record.count) instances created (\(Set(record.map(\.type)).sorted().joined(separator: ", "))), "
              + "\(states["terminated"] ?? 0) terminated, in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    /// A 0755 plugins folder holding a copy of the built driver, as the host requires.
    func pluginsFolder(in folder: String) throws -> String {
        let plugins = folder + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: Harness.buildFolder + "/libcdd_ec2.so", toPath: plugins + "/libcdd_ec2.so")
        chmod(folder, 0o755)
        chmod(plugins, 0o755)
        chmod(plugins + "/libcdd_ec2.so", 0o755)
        return plugins
    }

    /// Lists the set's instances and the containers' states every 200 ms until `done` holds or
    /// the time runs out; returns whether `done` held.
    func poll(seconds: Double, observer: NativeInstanceSet, tags: [String: String], client: APIClient, uuids: [String],
              watch: inout Watch, until done: (Watch) -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let now = Date()
            let listed = try await observer.list(tags: tags)
            watch.listed = Set(listed.map(\.id))
            for instance in listed {
                if watch.firstSeen[instance.id] == nil { watch.firstSeen[instance.id] = now }
                watch.types.insert(instance.providerType)
            }
            for uuid in uuids { watch.containerStates.insert(try await client.get(uuid).state) }
            if done(watch) { return true }
            try await Task.sleep(for: .milliseconds(200))
        } while Date() < deadline
        return false
    }

    /// Whatever a failed run left tagged, destroyed; the observer closed.
    func cleanUp(_ observer: NativeInstanceSet, _ tags: [String: String]) async {
        if let left = try? await observer.list(tags: tags), !left.isEmpty { _ = try? await observer.destroy(ids: left.map(\.id)) }
        await observer.close()
    }
}
