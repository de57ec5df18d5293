/// Instances that never became reachable, by configured type. A wrong image, a security group
/// without SSH or a wrong user fails every instance of a type the same way; relaunching at once
/// bills a fleet every `boot_timeout`, all night. So each wave of boot failures of a type backs
/// that type off exponentially (capped); after `notBootingAfter` waves in a row the type is
/// "not booting" (statuses, /_health, a metric, an error line). When a back-off ends, one trial
/// instance is created; the type is back when an instance of it boots. A ceiling on boot
/// failures per hour, whatever the type, stops creates even when every type fails.
///
///     var boot = BootFailures()
///     boot.failed("small", cause: "no SSH answer within 600s", now: now)   // small: back off 60 s
///     boot.blocked("small", now: now)   // "small did not boot (…); next trial at 12:03:10"
///     boot.booted("small")              // the streak ends
public struct BootFailures: Sendable, Hashable {
    public struct Streak: Sendable, Hashable {
        /// Waves of failures in a row (failures within one back-off are one wave: the same launch).
        public var waves: Int
        public var until: Double
        public var cause: String
        /// A trial instance of the type is booting: no other is created until it answers or fails.
        public var trialBooting = false
    }

    public var streaks: [String: Streak] = [:]
    /// When boot failures happened in the last hour, any type (for the ceiling).
    public var recent: [Double] = []
    public var notBootingAfter = 3
    public var firstDelay: Double = 60
    public var maxDelay: Double = 3600
    /// Boot failures per hour past which no instance of any type is created (0: no ceiling).
    public var maxPerHour = 0

    public init() {}

    /// An instance of `typeName` did not boot. Returns true when this makes the type "not booting".
    @discardableResult
    public mutating func failed(_ typeName: String, cause: String, now: Double) -> Bool {
        recent = recent.filter { $0 > now - 3600 } + [now]
        var streak = streaks[typeName] ?? Streak(waves: 0, until: now, cause: cause)
        streak.cause = cause
        if now >= streak.until || streak.trialBooting || streak.waves == 0 {
            streak.waves += 1
            streak.until = now + min(maxDelay, firstDelay * Double(1 << min(streak.waves - 1, 20)))
            streak.trialBooting = false
        }
        streaks[typeName] = streak
        return streak.waves == notBootingAfter
    }

    /// An instance of `typeName` answered: the type boots.
    public mutating func booted(_ typeName: String) { streaks[typeName] = nil }

    /// An instance of a backed-off type was created: the one trial.
    public mutating func trialCreated(_ typeName: String) { streaks[typeName]?.trialBooting = true }

    /// Forget every streak (a configuration reload: the image or the network may be fixed).
    public mutating func reset() {
        streaks = [:]
        recent = []
    }

    /// Whether creates of `typeName` are limited to one trial instance.
    public func trialOnly(_ typeName: String) -> Bool { streaks[typeName] != nil }

    public func notBooting(_ typeName: String) -> Bool { (streaks[typeName]?.waves ?? 0) >= notBootingAfter }

    /// Why `typeName` may not be created now, or nil.
    public func blocked(_ typeName: String, now: Double) -> String? {
        if let ceiling = ceilingReached(now: now) { return ceiling }
        guard let s = streaks[typeName] else { return nil }
        let label =
            notBooting(typeName)
            ? "not booting: \(typeName) did not boot \(s.waves) times in a row"
            : "\(typeName) did not boot"
        if s.trialBooting { return "\(label) (\(s.cause)); a trial instance is booting" }
        if s.until > now { return "\(label) (\(s.cause)); next trial at \(clock(s.until))" }
        return nil
    }

    /// Why nothing may be created now, when the ceiling is reached.
    public func ceilingReached(now: Double) -> String? {
        let lastHour = recent.filter { $0 > now - 3600 }
        guard maxPerHour > 0, lastHour.count >= maxPerHour, let oldest = lastHour.min() else { return nil }
        return "\(lastHour.count) instances did not boot in the last hour (ceiling \(maxPerHour)); no creates until \(clock(oldest + 3600))"
    }

    /// What is wrong, for /_health; nil when every type boots.
    public func problem(now: Double) -> String? {
        var parts = streaks.keys.sorted().filter(notBooting).map { name in
            "not booting: \(name) (\(streaks[name]!.cause))"
        }
        if let ceiling = ceilingReached(now: now) { parts.append(ceiling) }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
