import JSON

// scheduling: the scheduler's limits.
extension ConfigReader {
    mutating func readScheduling(_ value: JSONValue?, into s: inout Configuration.SchedulingSettings) {
        if let factor = number(value?["max_price_factor"]) { s.maxPriceFactor = factor }
        if let n = int(value?["max_instances"]) { s.limits.maxInstances = n }
        if let spend = number(value?["max_hourly_spend"]) {
            // JSON Schema's subset here has no exclusive minimum.
            if spend > 0 { s.limits.maxHourlySpend = spend } else { problem("scheduling.max_hourly_spend", "must be more than 0") }
        }
        if let n = int(value?["max_concurrent_creates"]) { s.limits.maxConcurrentCreates = n }
        if let n = int(value?["max_containers_per_instance"]) { s.limits.maxContainersPerInstance = n }
        // 0: an idle instance is shut down at the next pass.
        if let t = duration(value?["idle_timeout"], at: "scheduling.idle_timeout", positive: false) { s.limits.idleTimeout = t }
    }
}
