import JSON

extension Configuration {
    /// `executor:`: the daemon's pool is an executor backend (`libcdx_<name>.so`: a Slurm cluster,
    /// this machine) instead of a cloud driver's VMs. Exclusive with `driver:`.
    public struct ExecutorSettings: Sendable, Equatable {
        /// The backend id; the host loads `libcdx_<name>.so`.
        public var name: String
        /// The plugins folder (absolute); nil: the host's default.
        public var plugins: String?
        /// Passed as JSON to the backend's open_backend.
        public var config: JSONValue = .object([:])
        /// Partitions this dispatcher may use, in order of preference; empty: every one reported.
        public var partitions: [String] = []
        /// Seconds a cancelled job has between TERM and KILL.
        public var cancelGrace = 30.0
        /// Seconds the host waits for one backend call before giving up on it for the round.
        public var callTimeout = 60.0
        /// Seconds between rounds when nothing in the queue changes (jobs end without telling it).
        public var pollInterval = 5.0
        /// Seconds a backend file may take to load, negotiate and open in the vetting child.
        public var loadTimeout = 10.0
        /// Submits one round may make.
        public var maxSubmitsPerRound = 32
        /// This dispatcher's jobs at once (pending or running); nil: as many as the backend takes.
        public var maxJobs: Int?

        public init(name: String) {
            self.name = name
        }
    }
}
