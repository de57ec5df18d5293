import JSON
import Scheduler

// The settings of the dispatcher loop: the driver, the instance types, the scheduler's limits and
// how workers are reached. Instance types and limits are the Scheduler's own types (Scheduler
// imports only Units); the rest are plain values the host hands to DriverHost and WorkerPool.
extension Configuration {
    public struct DriverSettings: Sendable, Equatable {
        /// The driver id; the host loads `libcdd_<name>.so`.
        public var name: String
        /// The plugins folder (absolute); nil: the host's default.
        public var plugins: String?
        /// Passed as JSON to the driver's instance set; nil when the file gives none
        /// (see `Configuration.effectiveDriverConfig`).
        public var config: JSONValue?
        /// The image id passed to create; nil: the driver's default.
        public var image: String?
        /// Cloud calls (create, list, destroy, set_tags) per second, sustained, and the burst
        /// allowed above it: one budget for every call, so the cloud never throttles us.
        public var callsPerSecond = 10.0
        public var callBurst = 20
        /// Where the driver's code runs: in the daemon, or in a driver process of its own.
        public var isolation = DriverIsolation.inProcess
        /// Seconds a driver file may take to load, negotiate and open (each) in the vetting child.
        public var loadTimeout = 10.0
        /// Seconds the host waits for one driver call before it counts as lost (`internal`): above
        /// the driver's own worst case (its request timeout × retries × zones or subnets).
        public var callTimeout = 120.0

        public init(name: String = "loopback", plugins: String? = nil, config: JSONValue? = nil, image: String? = nil) {
            self.name = name
            self.plugins = plugins
            self.config = config
            self.image = image
        }
    }

    /// The types used when the file lists none: they suit the loopback driver, whose types are free-form.
    public static let localInstanceTypes: [InstanceType] = [
        InstanceType(name: "local-small", vcpus: 1, ram: 1 << 30, price: 0.01),
        InstanceType(name: "local-medium", vcpus: 2, ram: 4 << 30, price: 0.03),
        InstanceType(name: "local-large", vcpus: 4, ram: 8 << 30, price: 0.07),
    ]

    /// The scheduler's limits, and the price factor its eligibility uses.
    public struct SchedulingSettings: Sendable, Equatable {
        /// A container may get a type costing up to this many times the cheapest one that fits it.
        public var maxPriceFactor = 1.5
        public var limits = Limits()

        public init() {}
    }

    /// `driver.isolation`: `process` runs the driver in a host process of its own, restarted when it dies.
    public enum DriverIsolation: String, Sendable, Equatable, CaseIterable {
        case inProcess = "in-process"
        case process
    }

    /// The container runtime the runner uses on workers (`none`: plain processes). The init
    /// script does not install one: the image must have it.
    public enum WorkerRuntime: String, Sendable, Equatable, CaseIterable {
        case none, docker, podman, auto
    }

    /// How workers are made, reached and watched. Durations are seconds.
    public struct WorkerSettings: Sendable, Equatable {
        public var tagPrefix = "cloud-dispatch-"
        /// "": what the driver reports for the instance, else root.
        public var sshUser = ""
        /// An ed25519 private key (absolute); nil: `Configuration.workerKeyPath`.
        public var sshKey: String?
        public var runtime = WorkerRuntime.none
        /// The runner to deploy (absolute); nil: the one next to the host's executable.
        public var runnerBinary: String?
        /// An extra shell line for the instance init script.
        public var initCommand: String?
        /// The user plain-process containers run as on workers (a name, or uid[:gid]); nil: the
        /// runner's own user. Passed to the runner in each spec (`run_as`).
        public var runAs: String?
        public var bootTimeout = 600.0
        /// A ready worker unreachable this long is shut down.
        public var probeTimeout = 600.0
        public var shutdownRetry = 60.0
        public var listGrace = 60.0
        /// A cancelled container still running after this long gets its worker drained.
        public var termTimeout = 120.0
        public var connectTimeout = 10.0
        public var commandTimeout = 60.0
        public var probeInterval = 5.0
        public var maxConcurrentProbes = 20
        /// How often the dispatcher loop runs without a queue wake-up.
        public var pollInterval = 1.0

        public init() {}
    }

    /// The workers' SSH key: as given, else `<state_dir>/worker_ed25519` (the host makes it when absent).
    public var workerKeyPath: String { workers.sshKey ?? stateDir + "/worker_ed25519" }
}
