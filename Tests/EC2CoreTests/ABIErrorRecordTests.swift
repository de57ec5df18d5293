import DriverHost
import DriverSupport
import Foundation
import Logging
import Testing
import TestSupport

/// Through the ABI: the built libcdd_ec2.so loaded by the host's own loader, errors from the
/// fault proxy arriving in the host's error record with EC2's code, message, HTTP status and
/// retry hint. Part of the serialized moto suite (the proxy's rules are shared).
extension MotoScenarioTests {
    @Test func errorRecordCarriesEC2CodeMessageAndRetryHint() async throws {
        let proxy = try MotoPeer.proxy()
        try MotoPeer.control("DELETE", proxy + "/fault-proxy/faults")
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: Harness.buildFolder + "/libcdd_ec2.so", toPath: folder + "/libcdd_ec2.so")
        chmod(folder, 0o755)
        chmod(folder + "/libcdd_ec2.so", 0o755)
        let loader = DriverLoader(pool: BlockingPool(name: "ec2-abi-test", threads: 2),
                                  logger: Logging.Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let report = loader.loadNow(folder: folder)
        let driver = try #require(report.driver(id: "ec2"), "\(report.refused)")
        let set = try await driver.openNativeInstanceSet(id: "abi-\(run)", config: #"""
            {"region": "us-east-1", "endpoint": "\#(proxy)", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "x",
             "image": "ami-760aaa0f", "use_instance_role": false}
            """#)
        defer { Task { await set.close() } }
        let create = #"{"instance_type": {"name": "t", "provider_type": "p3.2xlarge", "vcpus": 8, "ram": 1, "preemptible": false, "price": 3.06}, "tags": {"cloud-dispatch-instance-set": "abi-\#(run)"}, "count": 1}"#

        try MotoPeer.control("POST", proxy + "/fault-proxy/faults", body: #"{"action": "RunInstances", "code": "VcpuLimitExceeded"}"#,
                             contentType: "application/json")
        do {
            _ = try await set.rawCall(.create, create)
            Issue.record("the fault was not seen")
        } catch {
            #expect(error.errorClass == .capacityFamily && error.providerCode == "VcpuLimitExceeded" && error.httpStatus == 400)
            #expect(error.message.contains("vCPU limit"), "\(error.message)")
        }
        try MotoPeer.control("POST", proxy + "/fault-proxy/faults", body: #"{"action": "DescribeInstances", "code": "RequestLimitExceeded", "retry_after": 4}"#,
                             contentType: "application/json")
        do {
            _ = try await set.list(tags: ["cloud-dispatch-instance-set": "abi-\(run)"])
            Issue.record("the fault was not seen")
        } catch {
            #expect(error.errorClass == .rateLimit && error.providerCode == "RequestLimitExceeded" && error.httpStatus == 503)
            #expect(error.retryAfter == .seconds(4))
        }
        try MotoPeer.control("DELETE", proxy + "/fault-proxy/faults")
    }
}
