import Foundation
import Testing
import TestSupport

/// A driver exports its two entry points and nothing else (docs/driver-abi.md §1), through a
/// linker version script (support/cdd-driver.exports). Without it the sim driver exported 638
/// global symbols and ec2 1,296.
@Suite struct DriverSymbolTests {
    @Test func everyBuiltDriverExportsOnlyCddNegotiateAndCddOpen() async throws {
        let drivers = try FileManager.default.contentsOfDirectory(atPath: BuildProducts.folder)
            .filter { $0.hasPrefix("libcdd_") && $0.hasSuffix(".so") }.sorted()
        #expect(Set(drivers).isSuperset(of: ["libcdd_loopback.so", "libcdd_sim.so", "libcdd_ec2.so", "libcdd_gce.so", "libcdd_azure.so"]), "\(drivers)")
        for driver in drivers {
            let run = try await Harness.run("/usr/bin/nm", ["-D", "--defined-only", BuildProducts.path(driver)])
            #expect(run.status == 0, "nm \(driver): \(run.output)")
            // "ADDRESS TYPE NAME"; a lower-case type is a local symbol (the linker keeps some in
            // the dynamic table), which nothing outside the library can bind to.
            let symbols = run.stdout.split(separator: "\n").map { $0.split(separator: " ") }
                .filter { $0.count == 3 && $0[1].allSatisfy(\.isUppercase) }.map { String($0[2]) }
            #expect(symbols.sorted() == ["cdd_negotiate", "cdd_open"], "\(driver) exports \(symbols.count): \(symbols.prefix(8))")
        }
    }

    /// Executor backends likewise (support/cdx-executor.exports): the fixture is built as a
    /// backend author would build one, and every libcdx_*.so the build makes is checked too.
    @Test func everyBuiltExecutorExportsOnlyCdxNegotiateAndCdxOpen() async throws {
        let executors = try FileManager.default.contentsOfDirectory(atPath: BuildProducts.folder)
            .filter { ($0.hasPrefix("libcdx_") && $0.hasSuffix(".so")) || $0.hasPrefix("libfixture_executor") }.sorted()
        #expect(executors.contains("libfixture_executor.so"), "\(executors)")
        for executor in executors {
            let run = try await Harness.run("/usr/bin/nm", ["-D", "--defined-only", BuildProducts.path(executor)])
            #expect(run.status == 0, "nm \(executor): \(run.output)")
            let symbols = run.stdout.split(separator: "\n").map { $0.split(separator: " ") }
                .filter { $0.count == 3 && $0[1].allSatisfy(\.isUppercase) }.map { String($0[2]) }
            #expect(symbols.sorted() == ["cdx_negotiate", "cdx_open"], "\(executor) exports \(symbols.count): \(symbols.prefix(8))")
        }
    }
}
