import DriverHost
import DriverSupport
import EC2Core
import Foundation
import Logging
import Queue
import Testing
import TestSupport

/// `serve` on moto behind the fault proxy, every RunInstances answered by a connection reset
/// after moto launched (the cloud acted, the answer was lost), and workers that never boot
/// (moto's addresses answer nothing). The create intents keep the fleet at `max_instances`
/// whatever is lost, and the boot back-off stops the relaunching: one wave, then nothing for
/// the back-off's 60 s. Without intents the lost answers double the fleet; without the back-off
/// a wave of 8 goes out every boot timeout.
extension MotoScenarioTests {
    @Test func lostCreateAnswersAndUnbootableWorkersNeitherGrowNorRelaunchTheFleet() async throws {
        let moto = try MotoPeer.endpoint()
        let proxy = try MotoPeer.proxy()
        try MotoPeer.control("DELETE", proxy + "/fault-proxy/faults")
        try MotoPeer.control("POST", proxy + "/fault-proxy/faults", body: #"{"action": "RunInstances", "reset": true, "times": -1}"#,
                             contentType: "application/json")
        defer { _ = try? MotoPeer.control("DELETE", proxy + "/fault-proxy/faults") }

        let dispatcherID = "faulty-\(run)"
        let setTag = ["cloud-dispatch-instance-set": dispatcherID]
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugins = try pluginsFolder(in: folder)
        let credentials = #""region": "us-east-1", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "moto", "image": "ami-760aaa0f", "use_instance_role": false"#
        try """
            dispatcher_id: \(dispatcherID)
            driver: {name: ec2, plugins: \(plugins), config: {"endpoint": "\(proxy)", \(credentials)}}
            instance_types:
              - {name: micro, provider_type: t3.micro, vcpus: 2, ram: 1GiB, price: 0.0104}
            scheduling: {max_instances: 8, idle_timeout: 2s}
            workers: {boot_timeout: 3s, probe_interval: 1s, poll_interval: 1s, connect_timeout: 1s, command_timeout: 2s,
                      shutdown_retry: 2s, runner_binary: /bin/true}
            """.write(toFile: folder + "/config.yml", atomically: true, encoding: .utf8)

        // The observer lists moto directly, as the cloud's truth.
        let report = DriverLoader(pool: BlockingPool(name: "ec2-observer", threads: 2),
                                  logger: Logging.Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }).loadNow(folder: plugins)
        let driver = try #require(report.driver(id: "ec2"), "\(report.refused)")
        let observer = try await driver.openNativeInstanceSet(id: "observer-\(run)", config: #"{"endpoint": "\#(moto)", \#(credentials)}"#)

        let daemon = try ServeProcess(config: folder + "/config.yml", stateDir: folder + "/state")
        var mostLive = 0
        var launched = Set<String>()
        var firstBootFailure: Date?
        do {
            guard await daemon.ready() else { throw MotoError("the daemon did not start:\n\(daemon.log)") }
            let client = try daemon.client()
            let uuids = try await client.submit((0..<20).map { _ in ContainerSpec(command: ["true"]) }).map(\.uuid)

            // Watch the cloud until 20 s after the first wave failed to boot.
            let deadline = Date().addingTimeInterval(90)
            while Date() < deadline {
                let live = try await observer.list(tags: setTag)
                mostLive = max(mostLive, live.count)
                launched.formUnion(live.map(\.id))
                if firstBootFailure == nil, daemon.log.contains("did not boot within 3s") { firstBootFailure = Date() }
                if let first = firstBootFailure, Date().timeIntervalSince(first) >= 20 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(firstBootFailure != nil, "no instance failed to boot:\n\(daemon.log.suffix(4000))")
            #expect(mostLive <= 8, "\(mostLive) instances live at once with max_instances 8")
            // One wave of 8; the type then backs off for 60 s (a trial instance at most).
            #expect(launched.count <= 9, "\(launched.count) instances launched: \(launched.sorted())")
            #expect(daemon.log.contains("create failed, its outcome unknown"), "the resets did not reach the host as lost answers")

            for uuid in uuids { _ = try await client.cancel(uuid, reason: "test over") }
            var listed = try await observer.list(tags: setTag)
            let emptyBy = Date().addingTimeInterval(60)
            while !listed.isEmpty && Date() < emptyBy {
                try await Task.sleep(for: .milliseconds(300))
                listed = try await observer.list(tags: setTag)
            }
            #expect(listed.isEmpty, "still listed after the cancel: \(listed.map(\.id))")
        } catch {
            await daemon.stop()
            await cleanUp(observer, setTag)
            throw error
        }
        #expect(await daemon.stop() == 0, "\(daemon.log.suffix(4000))")
        await cleanUp(observer, setTag)
        print("serve on moto, every launch answered by a reset: \(launched.count) instances launched, at most \(mostLive) live (max_instances 8)")
    }
}
