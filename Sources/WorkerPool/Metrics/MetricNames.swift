extension DispatchMetrics {
    /// Every metric name (docs/operations.md lists them with their meaning).
    public enum Name {
        static let p = "cloud_dispatch_"
        public static let driverOperations = p + "driver_operations_total"
        public static let configReloads = p + "config_reloads_total"
        public static let bootOutcomes = p + "boot_outcomes_total"
        public static let timeToSSH = p + "instances_time_to_ssh_seconds"
        public static let timeToReady = p + "instances_time_to_ready_seconds"
        public static let queueToStart = p + "containers_queue_to_start_seconds"
        public static let instances = p + "instances"
        public static let instancesByBehavior = p + "instances_idle_behavior"
        public static let price = p + "instances_price_per_hour"
        public static let vcpus = p + "instances_vcpus"
        public static let ram = p + "instances_ram_bytes"
        public static let containersRunning = p + "containers_running"
        public static let containersWaiting = p + "containers_waiting"
        public static let longestWait = p + "containers_longest_wait_seconds"
        public static let probeAgeMax = p + "probe_age_seconds_max"
        public static let probeAgeMedian = p + "probe_age_seconds_median"
        public static let atQuota = p + "at_quota"
        public static let spendRate = p + "spend_rate_per_hour"
        public static let spent = p + "spend_so_far"
        public static let instancesCreated = p + "instances_created"
        public static let maxInstances = p + "limit_max_instances"
        public static let maxHourlySpend = p + "limit_max_hourly_spend"
        public static let idleTimeout = p + "limit_idle_timeout_seconds"
    }
}
