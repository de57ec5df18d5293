// swift-tools-version: 6.0
// Swift 6 language mode: strict concurrency checking is on for every target.
import PackageDescription

/// A driver exports only cdd_negotiate and cdd_open: a linker version script (Swift has no
/// -fvisibility=hidden; for C it also hides the linker's __bss_start, _edata, _end), by
/// absolute path since the linker's working folder is not ours.
let driverExports: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(String(#filePath.dropLast("Package.swift".count)))support/cdd-driver.exports"]),
]

/// An executor backend exports only cdx_negotiate and cdx_open (support/cdx-executor.exports).
let executorExports: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(String(#filePath.dropLast("Package.swift".count)))support/cdx-executor.exports"]),
]

/// A C fixture driver for the loader tests: one folder, one shared implementation.
func fixture(_ name: String) -> Target {
    .target(name: "Fixture\(name)", dependencies: ["PluginABI"], path: "Tests/Fixtures/\(name)",
            linkerSettings: [.linkedLibrary("jansson")])
}

/// A C fixture executor backend: built as a backend author would (hidden symbols, warnings as
/// errors, only the two entry points exported).
func executorFixture(_ name: String) -> Target {
    .target(name: "Fixture\(name)", dependencies: ["PluginABI"], path: "Tests/Fixtures/\(name)",
            cSettings: [.unsafeFlags(["-fvisibility=hidden", "-Wall", "-Wextra", "-Werror"])],
            linkerSettings: [.linkedLibrary("jansson")] + executorExports)
}

let package = Package(
    name: "CloudDispatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cloud-dispatch", targets: ["Host"]),
        .executable(name: "cloud-dispatch-runner", targets: ["Runner"]),
        // The driver ABI header, for drivers built in packages of their own (examples/driver-swift).
        .library(name: "PluginABI", targets: ["PluginABI"]),
        .library(name: "cdd_loopback", type: .dynamic, targets: ["CDDLoopback"]),
        .library(name: "cdd_sim", type: .dynamic, targets: ["CDDSim"]),
        .library(name: "cdd_ec2", type: .dynamic, targets: ["CDDEC2"]),
        .library(name: "cdd_gce", type: .dynamic, targets: ["CDDGCE"]),
        .library(name: "cdd_azure", type: .dynamic, targets: ["CDDAzure"]),
        .library(name: "cdx_local", type: .dynamic, targets: ["CDXLocal"]),
        .library(name: "cdx_slurm", type: .dynamic, targets: ["CDXSlurm"]),
        // Test fixtures: deliberately not named libcdd_*, so they never sit in a plugins
        // folder by accident; tests copy them into temporary folders under driver names.
        .library(name: "fixture_misbehave", type: .dynamic, targets: ["FixtureMisbehave"]),
        .library(name: "fixture_major2", type: .dynamic, targets: ["FixtureMajor2"]),
        .library(name: "fixture_future", type: .dynamic, targets: ["FixtureFuture"]),
        .library(name: "fixture_noentry", type: .dynamic, targets: ["FixtureNoEntry"]),
        .library(name: "fixture_tiny", type: .dynamic, targets: ["FixtureTiny"]),
        .library(name: "fixture_nullmember", type: .dynamic, targets: ["FixtureNullMember"]),
        .library(name: "fixture_realcloud", type: .dynamic, targets: ["FixtureRealCloud"]),
        .library(name: "fixture_idempotent", type: .dynamic, targets: ["FixtureIdempotent"]),
        .library(name: "fixture_block_negotiate", type: .dynamic, targets: ["FixtureBlockNegotiate"]),
        .library(name: "fixture_block_open", type: .dynamic, targets: ["FixtureBlockOpen"]),
        .library(name: "fixture_abort_load", type: .dynamic, targets: ["FixtureAbortLoad"]),
        .library(name: "fixture_crashy", type: .dynamic, targets: ["FixtureCrashy"]),
        .library(name: "fixture_executor", type: .dynamic, targets: ["FixtureExecutor"]),
        .library(name: "fixture_executor_tiny", type: .dynamic, targets: ["FixtureExecutorTiny"]),
        .library(name: "fixture_executor_nullmember", type: .dynamic, targets: ["FixtureExecutorNullMember"]),
        .library(name: "fixture_executor_major2", type: .dynamic, targets: ["FixtureExecutorMajor2"]),
        .library(name: "fixture_executor_block_open", type: .dynamic, targets: ["FixtureExecutorBlockOpen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The driver ABI: one C header, nothing else.
        .target(name: "PluginABI", path: "Sources/PluginABI"),

        // JSON values and a JSON Schema validator (driver payloads, API bodies).
        .target(name: "JSON"),

        // Loads drivers and gives them a Swift face.
        .target(
            name: "DriverHost",
            dependencies: ["PluginABI", "JSON", "Units", .product(name: "Logging", package: "swift-log"),
                           .product(name: "CoreMetrics", package: "swift-metrics")],
            resources: [.embedInCode("Schemas/driver-abi.schema.json"), .embedInCode("Schemas/executor-abi.schema.json")]),

        // Sizes, durations and how they are written: one parser for the config file and the CLI.
        .target(name: "Units"),

        // The container queue: record, state machine, store protocol.
        .target(name: "Queue", dependencies: ["Units"]),
        // The embedded store (SQLite through GRDB) and the production one (PostgreSQL).
        .target(name: "SQLiteQueue", dependencies: ["Queue", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "PostgresQueue", dependencies: ["Queue", "Units", .product(name: "PostgresNIO", package: "postgres-nio"),
                                                      .product(name: "NIOSSL", package: "swift-nio-ssl"),
                                                      .product(name: "Logging", package: "swift-log")]),

        // The YAML configuration: schema-checked, every problem reported with its path.
        .target(name: "Config", dependencies: ["JSON", "Units", "Scheduler", .product(name: "Yams", package: "Yams")],
                resources: [.embedInCode("config.schema.json")]),

        // The scheduling pass: a pure function from queue, workers and limits to a plan.
        .target(name: "Scheduler", dependencies: ["Units"]),

        // The instances of an instance set and what runs on them; the dispatcher's loop.
        .target(name: "WorkerPool", dependencies: ["DriverHost", "Scheduler", "Queue", "Units",
                                                   .product(name: "Logging", package: "swift-log"),
                                                   .product(name: "CoreMetrics", package: "swift-metrics")]),

        // The pool of an executor backend (a Slurm cluster, this machine): its dispatcher's round.
        .target(name: "ExecutorPool", dependencies: ["DriverHost", "Scheduler", "Queue", "WorkerPool", "Units",
                                                     .product(name: "Logging", package: "swift-log"),
                                                     .product(name: "CoreMetrics", package: "swift-metrics")]),

        // libssh2, as the system has it (Debian: libssh2-1-dev).
        .systemLibrary(name: "CSSH2", path: "Sources/CSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        // Workers reached over SSH: sessions, commands, host identity, runner deploy.
        .target(name: "SSHExecutor", dependencies: ["CSSH2", "WorkerPool", "DriverHost", "Units",
                                                    .product(name: "Logging", package: "swift-log")]),

        // The worker-side runner. Plain Glibc, no Foundation: it links fully static
        // (`make runner`) and needs nothing on a VM but the kernel.
        .executableTarget(name: "Runner", path: "Sources/Runner"),

        // Simulated workers on a virtual clock, for policy tests, the soak and benchmarks.
        .target(name: "Simulation", dependencies: ["WorkerPool", "DriverHost", "Queue", "Scheduler"]),

        // The `bench` harnesses and their workload generators: what the Host's bench commands run.
        .target(name: "Benchmarks", dependencies: ["Queue", "Scheduler", "WorkerPool", "Simulation", "DriverHost", "Units",
                                                   .product(name: "Logging", package: "swift-log")]),

        // The API's wire types that server and client share, so the client does not link the server.
        .target(name: "APIModels"),

        // The HTTP API (Hummingbird), described by openapi.json.
        .target(name: "API", dependencies: ["Queue", "APIModels", "JSON", .product(name: "Hummingbird", package: "hummingbird"),
                                            // The connection guards are NIO channel handlers on Hummingbird's HTTP/1 channel.
                                            .product(name: "HummingbirdCore", package: "hummingbird"),
                                            .product(name: "NIOCore", package: "swift-nio"),
                                            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                                            .product(name: "HTTPTypes", package: "swift-http-types")],
                resources: [.embedInCode("openapi.json")]),

        // The API's client, as the CLI and the tests use it.
        .target(name: "APIClient", dependencies: ["Queue", "APIModels"]),

        // Certifies a driver against the contract (`cloud-dispatch driver-test`).
        .target(name: "DriverConformance", dependencies: ["DriverHost", "PluginABI", "Units"]),

        // The `cloud-dispatch` executable: argument parsing and wiring only.
        .executableTarget(
            name: "Host",
            dependencies: [
                "DriverHost", "DriverConformance", "ExecutorPool", "Queue", "SQLiteQueue", "PostgresQueue", "API", "APIModels", "APIClient", "Units", "Benchmarks", "Config", "Scheduler", "Simulation", "WorkerPool", "SSHExecutor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),

        // Drivers. A C driver is one target; it needs only the ABI header and its C libraries.
        .target(name: "CDDLoopback", dependencies: ["PluginABI"], path: "Plugins/Loopback",
                cSettings: [.unsafeFlags(["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"])],
                linkerSettings: [.linkedLibrary("jansson")] + driverExports),

        // Executor backends. The local one runs containers on this machine through the runner.
        .target(name: "CDXLocal", dependencies: ["PluginABI"], path: "Plugins/Local",
                cSettings: [.unsafeFlags(["-fvisibility=hidden", "-Wall", "-Wextra", "-Werror"])],
                linkerSettings: [.linkedLibrary("jansson")] + executorExports),

        // The Slurm one: C, Slurm's own commands run by argv (docs/executors/slurm.md).
        .target(name: "CDXSlurm", dependencies: ["PluginABI"], path: "Plugins/Slurm",
                cSettings: [.unsafeFlags(["-fvisibility=hidden", "-Wall", "-Wextra", "-Werror"])],
                linkerSettings: [.linkedLibrary("jansson")] + executorExports),

        // A Swift driver: all logic in a Core library (unit-testable), entry points in a thin target.
        .target(name: "SimCore", dependencies: ["PluginABI"], path: "Plugins/Sim/Core"),
        .target(name: "CDDSim", dependencies: ["PluginABI", "SimCore"], path: "Plugins/Sim/Entry", linkerSettings: driverExports),

        // The EC2 driver: libcurl (a system library, typed shims for its variadic calls), logic in EC2Core.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // What every Swift cloud driver shares: libcurl transport, JSON values, the ABI's payloads,
        // request limits, config reading and the C entry glue. Drivers' own logic stays in their Core.
        .target(name: "DriverSupport", dependencies: ["PluginABI", "CCurl"], path: "Plugins/DriverSupport"),
        .target(name: "EC2Core", dependencies: ["DriverSupport", "CCurl", "PluginABI"], path: "Plugins/EC2/Core"),
        .target(name: "CDDEC2", dependencies: ["PluginABI", "DriverSupport", "EC2Core"], path: "Plugins/EC2/Entry", linkerSettings: driverExports),
        .testTarget(name: "DriverSupportTests", dependencies: ["DriverSupport"]),
        .testTarget(name: "EC2CoreTests", dependencies: ["EC2Core", "DriverSupport", "PluginABI", "DriverHost", "TestSupport", "APIClient", "Queue",
                                                         .product(name: "Logging", package: "swift-log")]),

        // The GCE driver: Compute v1 REST over libcurl, OAuth2 with libcrypto; logic in GCECore.
        // The entry target exports only cdd_negotiate and cdd_open (a version script).
        .target(name: "GCECore", dependencies: ["DriverSupport", "CCurl", "PluginABI"], path: "Plugins/GCE/Core"),
        .target(name: "CDDGCE", dependencies: ["PluginABI", "DriverSupport", "GCECore"], path: "Plugins/GCE/Entry", linkerSettings: driverExports),
        .testTarget(name: "GCECoreTests", dependencies: ["GCECore", "DriverSupport", "PluginABI", "DriverHost", "TestSupport", "APIClient", "Queue",
                                                         .product(name: "Logging", package: "swift-log")]),
        // The Azure driver: ARM REST over libcurl, logic in AzureCore; the .so exports only the two entry points.
        .systemLibrary(name: "CAzureCrypto", path: "Plugins/Azure/CCrypto"),
        .target(name: "AzureCore", dependencies: ["DriverSupport", "CCurl", "CAzureCrypto", "PluginABI"], path: "Plugins/Azure/Core"),
        .target(name: "CDDAzure", dependencies: ["PluginABI", "DriverSupport", "AzureCore"], path: "Plugins/Azure/Entry", linkerSettings: driverExports),
        .testTarget(name: "AzureCoreTests", dependencies: ["AzureCore", "DriverSupport", "PluginABI", "DriverHost", "TestSupport", "APIClient", "Queue"]),

        fixture("Misbehave"), fixture("Major2"), fixture("Future"),
        fixture("NoEntry"), fixture("Tiny"), fixture("NullMember"), fixture("RealCloud"), fixture("Idempotent"),
        fixture("BlockNegotiate"), fixture("BlockOpen"), fixture("AbortLoad"), fixture("Crashy"),
        executorFixture("Executor"), executorFixture("ExecutorTiny"), executorFixture("ExecutorNullMember"),
        executorFixture("ExecutorMajor2"), executorFixture("ExecutorBlockOpen"),

        .target(name: "TestSupport", dependencies: ["APIClient", "DriverHost", .product(name: "PostgresNIO", package: "postgres-nio"),
                                                    .product(name: "Logging", package: "swift-log")], path: "Tests/TestSupport"),
        .testTarget(name: "DriverHostTests", dependencies: ["DriverHost", "JSON", "TestSupport"]),
        .testTarget(name: "DriverConformanceTests", dependencies: ["DriverConformance", "DriverHost", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "APIClient", "Queue", "SQLiteQueue", "PostgresQueue",
                                                   .product(name: "PostgresNIO", package: "postgres-nio"),
                                                   .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "QueueTests", dependencies: ["Queue", "SQLiteQueue", "PostgresQueue", "TestSupport",
                                                     .product(name: "GRDB", package: "GRDB.swift"),
                                                     .product(name: "PostgresNIO", package: "postgres-nio")]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler"]),
        .testTarget(name: "SimCoreTests", dependencies: ["SimCore"]),
        .testTarget(name: "DispatcherTests", dependencies: ["WorkerPool", "Simulation", "Scheduler", "Queue", "SQLiteQueue", "PostgresQueue",
                                                           .product(name: "PostgresNIO", package: "postgres-nio"),
                                                           "DriverHost", "TestSupport", .product(name: "Logging", package: "swift-log"),
                                                           .product(name: "Prometheus", package: "swift-prometheus"),
                                                           .product(name: "CoreMetrics", package: "swift-metrics")]),
        .testTarget(name: "ExecutorPoolTests", dependencies: ["ExecutorPool", "Scheduler", "Queue", "SQLiteQueue", "DriverHost", "TestSupport",
                                                              .product(name: "Logging", package: "swift-log"),
                                                              .product(name: "Prometheus", package: "swift-prometheus")]),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "TestSupport"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "JSON", "Scheduler"]),
        .testTarget(name: "UnitsTests", dependencies: ["Units"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Queue", "SQLiteQueue", "DriverHost", "TestSupport",
                                                           .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "SSHExecutorTests", dependencies: ["SSHExecutor", "WorkerPool", "DriverHost", "TestSupport",
                                                            .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "APITests", dependencies: ["API", "APIModels", "APIClient", "Queue", "SQLiteQueue", "Config", "JSON", "TestSupport",
                                                   .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
