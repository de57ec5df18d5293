import Glibc

/// Exit codes the host depends on.
enum Exit {
    static let ok: Int32 = 0
    /// `--status`: unknown uuid; `--kill`: still alive; anything: the node failed us.
    static let failure: Int32 = 1
    /// Bad input: arguments or spec.
    static let usage: Int32 = 2
    /// The uuid has a record (`--detach`) or is still live (`--forget`).
    static let conflict: Int32 = 3
}

/// One function per command of the runner contract (see docs/runner.md). Each returns the
/// process exit code; messages for humans go to stderr, answers for the host to stdout.
struct Commands {
    let paths: Paths

    /// The largest spec accepted on stdin.
    static let specLimit = 16 << 20

    // MARK: --detach

    /// Reads the spec, creates the record already locked, forks the supervisor and returns once
    /// the container runs (or has already failed to start, which its result then says).
    func detach() -> Int32 {
        guard let input = System.readAll(0, limit: Commands.specLimit) else {
            System.complain("cannot read the spec on stdin (or it is larger than \(Commands.specLimit) bytes)")
            return Exit.usage
        }
        let spec: Spec
        do { spec = try Spec(parsing: input) } catch {
            System.complain("refused: \(error)")
            return Exit.usage
        }
        guard paths.ensureFolder() else {
            System.complain("cannot create the state folder \(paths.folder) or make it private (0700): \(System.errorText())")
            return Exit.failure
        }
        let uuid = spec.uuid
        let lockFD: Int32
        switch Lock.create(
            paths.lock(uuid), temporary: paths.lockTemporary(uuid),
            content: Array(LockInfo(uuid: uuid, pid: getpid()).json.text.utf8))
        {
        case .exists:
            System.complain("refused: container \(uuid) already has a record (live, done or stale); --forget it first")
            return Exit.conflict
        case .failed(let message):
            System.complain(message)
            return Exit.failure
        case .created(let fd): lockFD = fd
        }
        _ = System.writeAtomically(paths.spec(uuid), input, temporary: paths.spec(uuid) + ".tmp")

        guard let ready = System.pipe() else {
            System.complain("cannot create a pipe: \(System.errorText())")
            forgetFiles(uuid)
            return Exit.failure
        }
        let pid = fork()
        if pid == 0 {
            close(ready.read)
            Supervisor.run(spec: spec, paths: paths, lockFD: lockFD, ready: ready.write)
        }
        close(ready.write)
        guard pid > 0 else {
            System.complain("cannot start the supervisor: \(System.errorText())")
            forgetFiles(uuid)
            return Exit.failure
        }
        // EOF once the container runs or the supervisor gave up; bounded in case it hangs.
        var fds = [pollfd(fd: ready.read, events: Int16(POLLIN), revents: 0)]
        let deadline = System.monotonic() + 30
        while System.monotonic() < deadline {
            let n = poll(&fds, 1, 1000)
            if n > 0 { break }
        }
        close(ready.read)
        System.say(JSON.object([("uuid", .string(uuid)), ("pid", .number(Double(pid)))]).text)
        return Exit.ok
    }

    // MARK: --list

    /// `UUID` (live), `UUID done`, `UUID stale`, then `broken [REASON]` when the node is
    /// unusable. No sleeps: it runs every few seconds on every worker.
    func list() -> Int32 {
        var lines: [String] = []
        for uuid in paths.uuids() ?? [] {
            switch Lock.probe(paths.lock(uuid)) {
            case .missing: continue
            case .held: lines.append(uuid)
            case .free: lines.append(uuid + (System.exists(paths.result(uuid)) ? " done" : " stale"))
            }
        }
        if let reason = brokenReason() {
            lines.append(reason.isEmpty ? "broken" : "broken \(reason)")
        }
        for line in lines { System.say(line) }
        return Exit.ok
    }

    /// Why the node is unusable ("" for a marker without a reason), nil when it is fine.
    func brokenReason() -> String? {
        if let marker = System.readFile(paths.brokenMarker, limit: 4096) {
            let text = String(decoding: marker, as: UTF8.self)
            return text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
        }
        guard paths.ensureFolder() else { return "cannot create the state folder \(paths.folder) or make it private (0700)" }
        guard access(paths.folder, W_OK | X_OK) == 0 else { return "the state folder \(paths.folder) is not writable" }
        return nil
    }

    // MARK: --status

    func status(_ uuid: String) -> Int32 {
        let state: String
        var outcome = Outcome()
        switch Lock.probe(paths.lock(uuid)) {
        case .missing:
            System.complain("unknown container UUID \(uuid)")
            return Exit.failure
        case .held:
            state = "running"
            outcome.startedAt = System.readFile(paths.lock(uuid)).flatMap(LockInfo.init)?.startedAt
        case .free:
            if let result = System.readFile(paths.result(uuid)) {
                state = "done"
                outcome = Outcome(result) ?? Outcome(reason: "the result file is unreadable")
            } else {
                state = "stale"
                outcome.startedAt = System.readFile(paths.lock(uuid)).flatMap(LockInfo.init)?.startedAt
                outcome.reason = "the runner's supervisor ended without writing a result"
            }
        }
        var members = [("uuid", JSON.string(uuid)), ("state", .string(state))]
        if case .object(let fields) = outcome.json(uuid: uuid) { members += fields.filter { $0.0 != "uuid" } }
        members.append(("log_tail", .string(BoundedLog.tail(of: paths.log(uuid)))))
        System.say(JSON.object(members).text)
        return Exit.ok
    }

    // MARK: --kill

    /// Signals the container's process group (for docker/podman: the container, by the
    /// runtime's `kill`, and the runtime's client only with KILL, as the supervisor does), then
    /// waits up to `patience` for the supervisor to record the end.
    func kill(_ signal: Int32, _ uuid: String, patience: Double = 1.0) -> Int32 {
        let lock = paths.lock(uuid)
        guard Lock.probe(lock) == .held else { return Exit.ok }
        let info = System.readFile(lock).flatMap(LockInfo.init)
        if let info, info.pgid > 0, info.runtime == nil || signal == SIGKILL { killpg(info.pgid, signal) }
        var helper: Int32?
        if let runtime = info?.runtime {
            helper = Spawn.runtimeKill(runtime, container: Launch.containerName(uuid), signal: signal)
        }
        let deadline = System.monotonic() + patience
        var ended = false
        while true {
            if let pid = helper {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { helper = nil }
            }
            ended = Lock.probe(lock) != .held
            if (ended && helper == nil) || System.monotonic() >= deadline { break }
            System.sleep(seconds: 0.02)
        }
        if !ended { System.complain("container \(uuid) is still running after \(Signals.name(signal))") }
        return ended ? Exit.ok : Exit.failure
    }

    // MARK: --forget

    /// Removes a finished (done or stale) record; refuses while live; nothing to do is fine.
    func forget(_ uuid: String) -> Int32 {
        var missing = false
        guard let fd = Lock.takeExclusive(paths.lock(uuid), patience: 0.3, missing: &missing) else {
            if missing { return Exit.ok }
            System.complain("container \(uuid) is still running; --kill it first")
            return Exit.conflict
        }
        forgetFiles(uuid)
        close(fd)
        return Exit.ok
    }

    private func forgetFiles(_ uuid: String) {
        for file in paths.recordFiles(uuid) { unlink(file) }
    }

    // MARK: --mark-broken

    func markBroken(_ reason: String) -> Int32 {
        let line = reason.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
        guard paths.ensureFolder(),
            System.writeAtomically(paths.brokenMarker, Array((line + "\n").utf8), temporary: paths.brokenMarker + ".tmp")
        else {
            System.complain("cannot write \(paths.brokenMarker): \(System.errorText())")
            return Exit.failure
        }
        return Exit.ok
    }
}
