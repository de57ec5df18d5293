import Foundation
import Logging
import PostgresNIO
import Queue
import Synchronization
import Units

/// The lease on a dispatcher id, on PostgreSQL: a session-level advisory lock held by one
/// connection of its own for the daemon's life. The server drops the lock when that session
/// ends (crash, kill -9, a severed network once its keepalives give up), so a dead daemon never
/// blocks its successor; a second live daemon is refused, naming the holder.
///
/// `dispatcher_leases` gives each id a lock key (no hash collisions), records the holder for the
/// refusal, and counts an epoch per acquisition: a daemon that lost its session and gets the
/// lock back with an epoch more than one higher knows another daemon acted on its set meanwhile.
final class PostgresLease: DispatcherLease {
    /// The advisory-lock namespace of leases (the two-key form: apart from the migration lock).
    static let namespace: Int32 = 7_242_612

    struct Settings: Sendable {
        var heartbeat: Duration = .seconds(5)
        var heartbeatTimeout: Duration = .seconds(10)
        var retry: Duration = .seconds(2)
    }

    private struct State {
        var connection: PostgresConnection?
        var problem: String?
        var epoch: Int64
    }

    private enum Attempt {
        case held(epoch: Int64)
        case heldBy(LeaseHolder?)
    }

    let url: PostgresURL
    let dispatcher: String
    let holder: LeaseHolder
    let settings: Settings
    let logger: Logger
    /// Where the store looks up the epoch its writes under this id are fenced with.
    let epochs: LeaseEpochs?
    private let state: Mutex<State>
    private let takeover: AsyncStream<String>
    private let takeoverSink: AsyncStream<String>.Continuation
    private let watcher = Mutex<Task<Void, Never>?>(nil)

    private init(
        url: PostgresURL, dispatcher: String, holder: LeaseHolder, settings: Settings, logger: Logger,
        connection: PostgresConnection, epoch: Int64, epochs: LeaseEpochs?
    ) {
        self.epochs = epochs
        epochs?.set(dispatcher, epoch)
        self.url = url
        self.dispatcher = dispatcher
        self.holder = holder
        self.settings = settings
        self.logger = logger
        state = Mutex(State(connection: connection, problem: nil, epoch: epoch))
        (takeover, takeoverSink) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Takes the lease, or throws `conflict` naming the daemon that holds it.
    static func acquire(
        url: PostgresURL, dispatcher: String, holder: LeaseHolder, settings: Settings = Settings(),
        epochs: LeaseEpochs? = nil, logger: Logger
    ) async throws(QueueError) -> PostgresLease {
        let connection = try await connect(url, dispatcher: dispatcher, logger: logger)
        var attempt: Attempt
        let patience = ContinuousClock.now + .seconds(15)
        repeat {
            do {
                attempt = try await take(connection, dispatcher: dispatcher, holder: holder, logger: logger)
            } catch {
                try? await connection.close()
                throw .unavailable("cannot take the lease on dispatcher id \(dispatcher): \(PostgresContainerStore.describe(error))")
            }
            // A daemon restarted right after a crash: the server has not yet seen the dead
            // process's session close. Wait for it rather than refuse.
            guard case .heldBy(let other?) = attempt, other.host == holder.host, !processIsAlive(other.pid),
                ContinuousClock.now < patience
            else { break }
            try? await Task.sleep(for: .milliseconds(200))
        } while true
        switch attempt {
        case .heldBy(let other):
            try? await connection.close()
            throw .conflict(refusal(dispatcher, other))
        case .held(let epoch):
            let lease = PostgresLease(
                url: url, dispatcher: dispatcher, holder: holder, settings: settings, logger: logger,
                connection: connection, epoch: epoch, epochs: epochs)
            lease.watcher.withLock { $0 = Task { await lease.watch() } }
            return lease
        }
    }

    private static func processIsAlive(_ pid: Int) -> Bool {
        kill(pid_t(pid), 0) == 0 || errno == EPERM
    }

    static func refusal(_ dispatcher: String, _ other: LeaseHolder?) -> String {
        "dispatcher id \"\(dispatcher)\" is in use by \(other?.description ?? "another cloud-dispatch that is starting"); "
            + "stop that daemon, or give this one another dispatcher_id"
    }

    var problem: String? { state.withLock { $0.problem } }

    var epoch: Int64 { state.withLock { $0.epoch } }

    func takenOver() async -> String? {
        for await reason in takeover { return reason }
        return nil
    }

    func release() async {
        let task = watcher.withLock { $0 }
        task?.cancel()
        let connection = state.withLock { s -> PostgresConnection? in
            s.problem = "released"
            defer { s.connection = nil }
            return s.connection
        }
        // Closing the session releases the advisory lock with it, and ends the watch's wait. A
        // close that does not answer is not waited for past a few seconds (the server drops the
        // session, and the lock, when the socket goes with this process).
        let closing = Task { try? await connection?.close() }
        let closed: @Sendable () async -> Void = { await closing.value }
        let patience: @Sendable () async -> Void = { try? await Task.sleep(for: .seconds(5)) }
        await firstToFinish([closed, patience], cancelled: ())
        await task?.value
        epochs?.remove(dispatcher)
        takeoverSink.finish()
    }

    // MARK: - Holding on

    /// Watches the session; when it is lost, acts on nothing until the lock is held again.
    private func watch() async {
        while !Task.isCancelled {
            guard let connection = state.withLock({ $0.connection }) else { return }
            let reason = await firstSignOfLoss(connection)
            if Task.isCancelled { return }
            let message = "lease on dispatcher id \(dispatcher) lost (\(reason)): not dispatching until it is held again"
            state.withLock {
                $0.connection = nil
                $0.problem = message
            }
            logger.error("lease lost: not dispatching until it is held again", metadata: ["dispatcher_id": "\(dispatcher)", "reason": "\(reason)"])
            guard await regain() else { return }
        }
    }

    /// Returns why the session is gone: closed by the server or the network, or silent past the
    /// heartbeat's timeout. Returns as soon as one of those is seen (see `firstToFinish`: a wait
    /// on a dead connection may never end), and asks the connection to close without waiting.
    private func firstSignOfLoss(_ connection: PostgresConnection) async -> String {
        let logger = logger
        let settings = settings
        let closed: @Sendable () async -> String? = {
            do { try await connection.closeFuture.get() } catch {}
            return Task.isCancelled ? nil : "the connection closed"
        }
        let heartbeatsFail: @Sendable () async -> String? = {
            while !Task.isCancelled {
                try? await Task.sleep(for: settings.heartbeat)
                if Task.isCancelled { return nil }
                if let failure = await Self.heartbeat(connection, timeout: settings.heartbeatTimeout, logger: logger) { return failure }
            }
            return nil
        }
        let reason = await firstToFinish([closed, heartbeatsFail], cancelled: nil)
        Task { try? await connection.close() }
        return reason ?? "cancelled"
    }

    /// One `SELECT 1`; nil when it answered in time, else why not (the connection is then asked
    /// to close, which ends the query that did not answer).
    private static func heartbeat(_ connection: PostgresConnection, timeout: Duration, logger: Logger) async -> String? {
        let answered: @Sendable () async -> String? = {
            do {
                _ = try await connection.query("SELECT 1", logger: logger)
                return nil
            } catch {
                return "heartbeat failed: \(PostgresContainerStore.describe(error))"
            }
        }
        let silent: @Sendable () async -> String? = {
            try? await Task.sleep(for: timeout)
            return Task.isCancelled ? nil : "no answer to a heartbeat in \(timeout)"
        }
        let failure = await firstToFinish([answered, silent], cancelled: nil)
        if failure != nil { Task { try? await connection.close() } }
        return failure
    }

    /// Tries until the lock is ours again (true), or until another daemon is seen to have held
    /// it meanwhile (false: taken over), or cancellation.
    private func regain() async -> Bool {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.retry)
            if Task.isCancelled { return false }
            let connection: PostgresConnection
            let attempt: Attempt
            do {
                connection = try await Self.connect(url, dispatcher: dispatcher, logger: logger)
            } catch {
                logger.warning("lease: cannot reach the queue database", metadata: ["error": "\(error)"])
                continue
            }
            state.withLock { $0.connection = connection }  // so that `release` can end a take that waits
            defer { if problem != nil { state.withLock { $0.connection = nil } } }
            do {
                attempt = try await Self.take(connection, dispatcher: dispatcher, holder: holder, logger: logger)
            } catch {
                try? await connection.close()
                logger.warning("lease: cannot take it back", metadata: ["error": "\(PostgresContainerStore.describe(error))"])
                continue
            }
            if Task.isCancelled {  // released meanwhile
                try? await connection.close()
                return false
            }
            let expected = epoch + 1
            switch attempt {
            case .held(let epoch) where epoch == expected:
                state.withLock {
                    $0.connection = connection
                    $0.problem = nil
                    $0.epoch = epoch
                }
                epochs?.set(dispatcher, epoch)
                logger.notice("lease held again: dispatching", metadata: ["dispatcher_id": "\(dispatcher)", "epoch": "\(epoch)"])
                return true
            case .held(let epoch):
                try? await connection.close()
                return takenOver("held by another daemon while ours was lost (epoch \(expected - 1) → \(epoch))")
            case .heldBy(let other) where other?.host == holder.host && other?.pid == holder.pid:
                try? await connection.close()  // our old session, not yet dropped by the server
            case .heldBy(let other):
                try? await connection.close()
                return takenOver("now held by \(other?.description ?? "another daemon")")
            }
        }
        return false
    }

    private func takenOver(_ why: String) -> Bool {
        let reason = "dispatcher id \(dispatcher) was \(why): what this daemon knows of its instances is stale"
        state.withLock { $0.problem = reason }
        logger.critical("lease taken over", metadata: ["dispatcher_id": "\(dispatcher)", "reason": "\(reason)"])
        takeoverSink.yield(reason)
        return false
    }

    // MARK: - SQL

    private static func connect(_ url: PostgresURL, dispatcher: String, logger: Logger) async throws(QueueError) -> PostgresConnection {
        var configuration = url.connectionConfiguration()
        configuration.options.additionalStartupParameters = [("application_name", "cloud-dispatch lease \(dispatcher)".prefix(63).description)]
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            // The server notices a dead client through keepalives: without them a severed
            // network would keep the lock (and the successor waiting) for hours.
            for setting in ["tcp_keepalives_idle = 10", "tcp_keepalives_interval = 5", "tcp_keepalives_count = 3"] {
                _ = try await connection.query(PostgresQuery(unsafeSQL: "SET \(setting)"), logger: logger)
            }
            return connection
        } catch {
            throw .unavailable("cannot connect to queue database \(url): \(PostgresContainerStore.describe(error))")
        }
    }

    /// Tries the lock once; on success bumps the epoch and records the holder.
    private static func take(_ db: PostgresConnection, dispatcher: String, holder: LeaseHolder, logger: Logger) async throws -> Attempt {
        try await db.query("INSERT INTO dispatcher_leases (dispatcher_id) VALUES (\(dispatcher)) ON CONFLICT DO NOTHING", logger: logger)
        var locked = false
        for try await got in try await db.query(
            """
            SELECT pg_try_advisory_lock(\(namespace), lock_key) FROM dispatcher_leases WHERE dispatcher_id = \(dispatcher)
            """, logger: logger
        ).decode(Bool.self) {
            locked = got
        }
        guard locked else {
            var other: LeaseHolder?
            for try await (host, pid, since) in try await db.query(
                """
                SELECT host, pid, since FROM dispatcher_leases WHERE dispatcher_id = \(dispatcher)
                """, logger: logger
            ).decode((String?, Int?, Date?).self) {
                if let host, let pid { other = LeaseHolder(host: host, pid: pid, since: since) }
            }
            return .heldBy(other)
        }
        var epoch: Int64 = 0
        for try await value in try await db.query(
            """
            UPDATE dispatcher_leases SET host = \(holder.host), pid = \(holder.pid), since = now(), epoch = epoch + 1
            WHERE dispatcher_id = \(dispatcher) RETURNING epoch
            """, logger: logger
        ).decode(Int64.self) {
            epoch = value
        }
        return .held(epoch: epoch)
    }
}
