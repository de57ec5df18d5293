import DriverHost

/// The limits a soak holds the dispatcher to on the cloud's side, whatever the pool believes.
public struct CloudRules: Sendable {
    /// No more instances live at once than this (the dispatcher's `max_instances`).
    public var maxInstances: Int
    /// No more launches that end in a boot failure in any hour than this, plus `wave`
    /// (`WorkerPool.Settings.maxBootFailuresPerHour`; 0: not checked).
    public var bootFailuresPerHour: Int
    /// What may be launched past the ceiling before the failures are known (one round's creates).
    public var wave: Int
    /// The tag naming each instance's create intent.
    public var intentTag: String

    public init(maxInstances: Int, bootFailuresPerHour: Int, wave: Int, intentTag: String = "cloud-dispatch-intent") {
        self.maxInstances = maxInstances
        self.bootFailuresPerHour = bootFailuresPerHour
        self.wave = wave
        self.intentTag = intentTag
    }
}

/// What the cloud itself listed, round after round, held to `CloudRules`: the most instances
/// live at once and, per intent token, no more instances than the intent asked for. Each kind
/// of breach is reported once per token (or once for the limit), with the round it was seen.
public struct CloudCensus: Sendable {
    public private(set) var mostLive = 0
    /// Every instance id any listing showed: the launches that reached the cloud.
    public private(set) var seen: Set<String> = []
    public private(set) var violations: [String] = []
    /// Rounds whose listing failed even when asked again (nothing was checked then).
    public private(set) var unlistedRounds = 0
    private var reported: Set<String> = []

    public init() {}

    public mutating func count(_ instances: [Instance], asked: [String: Int], round: Int, rules: CloudRules) {
        mostLive = max(mostLive, instances.count)
        seen.formUnion(instances.map(\.id))
        if instances.count > rules.maxInstances, reported.insert("max").inserted {
            violations.append("round \(round): \(instances.count) instances live, past max_instances \(rules.maxInstances)")
        }
        var perToken: [String: Int] = [:]
        for i in instances { if let token = i.tags[rules.intentTag] { perToken[token, default: 0] += 1 } }
        for (token, n) in perToken.sorted(by: { $0.key < $1.key }) {
            let limit = asked[token] ?? 0
            if n > limit, reported.insert(token).inserted {
                violations.append("round \(round): intent \(token) has \(n) instances, it asked for \(limit)")
            }
        }
    }

    public mutating func missedListing() { unlistedRounds += 1 }
}

/// Launches that ended in a boot failure, per hour, held to the ceiling.
public struct BootFailureCount: Sendable, Equatable {
    /// The most such launches in any hour (a sliding window).
    public var mostInAnHour: Int
    /// Per hour from the first launch.
    public var perHour: [Int]
    public var violation: String?

    /// `launches`: when each launch that never booted was made.
    public init(launches: [Double], rules: CloudRules) {
        let times = launches.sorted()
        var most = 0
        var end = 0
        for (i, t) in times.enumerated() {
            while end < times.count && times[end] < t + 3600 { end += 1 }
            most = max(most, end - i)
        }
        mostInAnHour = most
        perHour = []
        if let first = times.first {
            for t in times {
                let hour = Int((t - first) / 3600)
                while perHour.count <= hour { perHour.append(0) }
                perHour[hour] += 1
            }
        }
        let allowed = rules.bootFailuresPerHour + rules.wave
        violation =
            rules.bootFailuresPerHour > 0 && most > allowed
            ? "\(most) launches ended in a boot failure within an hour, past the ceiling \(rules.bootFailuresPerHour) (+ \(rules.wave), one wave)"
            : nil
    }
}
