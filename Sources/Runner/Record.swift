/// What the lock file says about a live container: who to signal and how.
///
/// Written by `--detach` (supervisor pid) and completed by the supervisor once the container
/// runs (its process group, the container runtime, the start time); read by `--kill` and
/// `--status`.
struct LockInfo: Equatable, Sendable {
    var uuid: String
    var pid: Int32
    /// The container's process group (0 until it started).
    var pgid: Int32 = 0
    /// The path of docker or podman when a container runtime runs it, nil for a plain process.
    var runtime: String? = nil
    var startedAt: Double? = nil

    var json: JSON {
        .object([
            ("uuid", .string(uuid)), ("pid", .number(Double(pid))), ("pgid", .number(Double(pgid))),
            ("runtime", .from(runtime)), ("started_at", .from(startedAt)),
        ])
    }

    init(uuid: String, pid: Int32) {
        self.uuid = uuid
        self.pid = pid
    }

    init?(_ bytes: [UInt8]) {
        guard let json = try? JSON.parse(bytes), let uuid = json["uuid"]?.string,
            let pid = json["pid"]?.int
        else { return nil }
        self.uuid = uuid
        self.pid = Int32(truncatingIfNeeded: pid)
        pgid = Int32(truncatingIfNeeded: json["pgid"]?.int ?? 0)
        runtime = json["runtime"]?.string
        startedAt = json["started_at"]?.number
    }
}

/// How a container ended; written once, atomically, before the supervisor lets go of the lock.
struct Outcome: Equatable, Sendable {
    /// The exit status; 128+signal when a signal ended it; nil when it never ran.
    var exitCode: Int?
    var signal: Int?
    /// Why the runner ended it or could not run it; nil for an ordinary exit.
    var reason: String?
    var startedAt: Double?
    var finishedAt: Double?

    func json(uuid: String) -> JSON {
        .object([
            ("uuid", .string(uuid)), ("exit_code", .from(exitCode)), ("signal", .from(signal)),
            ("reason", .from(reason)), ("started_at", .from(startedAt)), ("finished_at", .from(finishedAt)),
        ])
    }

    init(exitCode: Int? = nil, signal: Int? = nil, reason: String? = nil, startedAt: Double? = nil, finishedAt: Double? = nil) {
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    init?(_ bytes: [UInt8]) {
        guard let json = try? JSON.parse(bytes), case .object = json else { return nil }
        exitCode = json["exit_code"]?.int
        signal = json["signal"]?.int
        reason = json["reason"]?.string
        startedAt = json["started_at"]?.number
        finishedAt = json["finished_at"]?.number
    }
}
