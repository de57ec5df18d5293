import Foundation
import Logging
import PostgresNIO
import Queue

/// The production queue store: PostgreSQL, shareable by several dispatcher processes (each
/// with its own dispatcher id). A lock writes a row only if it is the version read and free
/// (`FOR UPDATE SKIP LOCKED`), so two dispatchers never lock the same container and never wait
/// for each other; every write
/// sends `NOTIFY cloud_dispatch_queue`, and each store `LISTEN`s, so a submit anywhere wakes
/// every scheduler within milliseconds.
///
///     let store = try await PostgresContainerStore.open(url: "postgres://cd@db/queue")
public final class PostgresContainerStore: ContainerStore {
    static let channel = "cloud_dispatch_queue"

    let client: PostgresClient
    let url: PostgresURL
    let policy: QueuePolicy
    let logger: Logger
    let notifier = ChangeNotifier()
    /// The lease epochs this process holds: writes under those ids are fenced with them.
    let epochs = LeaseEpochs()
    private let tasks: [Task<Void, Never>]

    private init(client: PostgresClient, url: PostgresURL, policy: QueuePolicy, logger: Logger, tasks: [Task<Void, Never>]) {
        self.client = client
        self.url = url
        self.policy = policy
        self.logger = logger
        self.tasks = tasks
    }

    /// Connects, brings the schema up to date, and starts listening for changes.
    public static func open(
        url: String, policy: QueuePolicy = QueuePolicy(), logger: Logger = Logger(label: "queue")
    ) async throws(QueueError) -> PostgresContainerStore {
        let parsed: PostgresURL
        do { parsed = try PostgresURL(url) } catch { throw .unavailable(error.description) }
        try await connectOnce(parsed, logger: logger)
        let client = PostgresClient(configuration: parsed.clientConfiguration(), backgroundLogger: logger)
        let runner = Task { await client.run() }
        do {
            try await migrate(client, logger: logger)
        } catch {
            runner.cancel()
            throw .unavailable("cannot use queue database \(parsed): \(Self.describe(error))")
        }
        let notifier = ChangeNotifier()
        let listener = Task { await listen(client, notifier: notifier, logger: logger) }
        let store = PostgresContainerStore(client: client, url: parsed, policy: policy, logger: logger, tasks: [runner, listener])
        store.bridge(notifier)
        return store
    }

    /// Versioned migrations, each applied once, under an advisory lock so that dispatchers
    /// starting together do not race.
    static let migrations: [(Int, String)] = [
        (
            1,
            """
            CREATE TABLE containers (
                uuid text PRIMARY KEY,
                state text NOT NULL,
                priority integer NOT NULL,
                locked_by text,
                client_request_id text UNIQUE,
                modified_at timestamptz NOT NULL,
                doc text NOT NULL
            );
            CREATE INDEX containers_by_state ON containers (state, uuid);
            """
        ),
        (
            2,
            """
            CREATE TABLE health_probe (id integer PRIMARY KEY, probed_at timestamptz NOT NULL);
            CREATE TABLE dispatcher_leases (
                dispatcher_id text PRIMARY KEY,
                lock_key integer GENERATED ALWAYS AS IDENTITY UNIQUE,
                host text,
                pid integer,
                since timestamptz,
                epoch bigint NOT NULL DEFAULT 0
            );
            """
        ),
        (
            3,
            """
            CREATE TABLE create_intents (
                token text PRIMARY KEY,
                instance_set text NOT NULL,
                type_name text NOT NULL,
                count integer NOT NULL,
                secret text,
                created_at timestamptz NOT NULL
            );
            CREATE INDEX create_intents_by_set ON create_intents (instance_set, created_at);
            """
        ),
        (
            4,
            """
            CREATE TABLE dispatcher_members (
                dispatcher_id text PRIMARY KEY,
                driver text NOT NULL,
                version text NOT NULL,
                host text NOT NULL,
                pid integer NOT NULL,
                heartbeat_at timestamptz NOT NULL,
                taken_over_by text,
                taken_over_at timestamptz,
                drained_at timestamptz
            );
            """
        ),
        (
            5,
            // The change feed: every insert or update stamps the row with its transaction's id
            // (64 bits, never wraps). Why a reader misses nothing: `summaries(changedSince:)`.
            // Rows from before the migration keep 0: a reader starts with a full read anyway.
            """
            ALTER TABLE containers ADD COLUMN changed_xid xid8 NOT NULL DEFAULT '0';
            CREATE INDEX containers_by_change ON containers (changed_xid);
            CREATE FUNCTION cloud_dispatch_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.changed_xid := pg_current_xact_id();
                RETURN NEW;
            END
            $$;
            CREATE TRIGGER containers_changed BEFORE INSERT OR UPDATE ON containers
                FOR EACH ROW EXECUTE FUNCTION cloud_dispatch_mark_changed();
            """
        ),
    ]

    /// `upTo`: the last migration to apply (tests build an older schema with it).
    static func migrate(_ client: PostgresClient, logger: Logger, upTo last: Int = .max) async throws {
        try await client.withTransaction(logger: logger) { db in
            try await db.query("SELECT pg_advisory_xact_lock(7242611)", logger: logger)
            try await db.query(
                "CREATE TABLE IF NOT EXISTS cloud_dispatch_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            var applied = Set<Int>()
            for try await version in try await db.query("SELECT version FROM cloud_dispatch_migrations", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            for (version, sql) in migrations where !applied.contains(version) && version <= last {
                for statement in statements(in: sql) {
                    try await db.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await db.query("INSERT INTO cloud_dispatch_migrations (version) VALUES (\(version))", logger: logger)
            }
        }
    }

    /// The statements of a migration, split at semicolons outside `$$` bodies (a function's).
    static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        for (i, piece) in sql.components(separatedBy: "$$").enumerated() {
            if i > 0 { current += "$$" }
            guard i % 2 == 0 else {
                current += piece  // inside a dollar-quoted body
                continue
            }
            let parts = piece.split(separator: ";", omittingEmptySubsequences: false)
            for (j, part) in parts.enumerated() {
                current += part
                if j < parts.count - 1 {
                    statements.append(current)
                    current = ""
                }
            }
        }
        statements.append(current)
        return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Turns NOTIFYs (from any process) into wake-ups, reconnecting with back-off.
    static func listen(_ client: PostgresClient, notifier: ChangeNotifier, logger: Logger) async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        delay = .milliseconds(100)
                        notifier.notify()  // anything may have changed while we were away
                        for try await _ in notifications { notifier.notify() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("queue LISTEN connection lost; reconnecting", metadata: ["error": "\(describe(error))", "in": "\(delay)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(10))
        }
    }

    private func bridge(_ source: ChangeNotifier) {
        let target = notifier
        Task {
            for await _ in source.stream() { target.notify() }
        }
    }

    // MARK: - ContainerStore

    public func submit(_ specs: [ContainerSpec]) async throws(QueueError) -> [Container] {
        try ContainerFactory.validate(specs)
        let logger = logger
        let now = Timestamp.now()
        let fresh = specs.map { ContainerFactory.make($0, now: now) }
        if specs.count == 1 { return [try await submitOne(specs[0], as: fresh[0])] }
        let docs = await ContainerCodec.encode(fresh)
        return try await transaction { db in
            var stored = Set<String>()
            for try await uuid in try await db.execute(PostgresStatements.InsertBatch(containers: fresh, docs: docs, now: now), logger: logger) {
                stored.insert(uuid)
            }
            var made: [Container] = []
            for (spec, container) in zip(specs, fresh) {
                if stored.contains(container.uuid) {
                    made.append(container)
                    continue
                }
                // The client request id was seen before: the same spec gets the same container.
                let id = spec.clientRequestID ?? ""
                guard let earlier = try await Self.fetch(db, "SELECT doc FROM containers WHERE client_request_id = \(id)", logger: logger).first
                else {
                    throw QueueError.unavailable("insert of \(container.uuid) neither happened nor conflicted")
                }
                made.append(try Self.repeated(spec, earlier: earlier))
            }
            return made
        }
    }

    /// One container in one statement, autocommit (a single row needs no transaction to be
    /// all or none). A client request id used before returns the earlier container.
    private func submitOne(_ spec: ContainerSpec, as container: Container) async throws(QueueError) -> Container {
        let logger = logger
        return try await withClient { client in
            var outcome: PostgresStatements.InsertOne.Row = (0, nil)
            for try await row in try await client.execute(PostgresStatements.InsertOne(container: container), logger: logger) { outcome = row }
            if outcome.inserted == 1 { return container }
            // Not inserted: the id is taken. A submit that committed it after this statement's
            // snapshot is invisible to that statement; a fresh read sees it.
            var earlier = outcome.earlier
            if earlier == nil, let id = spec.clientRequestID {
                for try await doc in try await client.execute(PostgresStatements.ByRequestID(requestID: id), logger: logger) { earlier = doc }
            }
            guard let earlier else { throw QueueError.unavailable("insert of \(container.uuid) neither happened nor conflicted") }
            return try Self.repeated(spec, earlier: try ContainerCodec.decode(earlier))
        }
    }

    /// A repeated client request id: the same spec gets the earlier container, another is a conflict.
    private static func repeated(_ spec: ContainerSpec, earlier: Container) throws(QueueError) -> Container {
        guard ContainerFactory.spec(of: earlier) == spec else {
            throw .conflict("client_request_id \(spec.clientRequestID ?? "") was used for \(earlier.uuid) with a different spec")
        }
        return earlier
    }

    public func get(_ uuid: String) async throws(QueueError) -> Container {
        let logger = logger
        let found = try await withClient { client in
            try await Self.fetch(client, "SELECT doc FROM containers WHERE uuid = \(uuid)", logger: logger)
        }
        guard let container = found.first else { throw .notFound(uuid: uuid) }
        return container
    }

    public func list(_ query: ContainerQuery) async throws(QueueError) -> ContainerPage {
        let (states, minPriority, maxPriority, after, limit) = Self.bounds(query)
        let logger = logger
        var items = try await withClient { client in
            try await Self.fetch(
                client,
                """
                SELECT doc FROM containers
                WHERE state = ANY(\(states)) AND priority >= \(minPriority) AND priority <= \(maxPriority) AND uuid > \(after)
                ORDER BY uuid LIMIT \(limit)
                """, logger: logger)
        }
        let more = items.count > query.limit
        if more { items.removeLast() }
        return ContainerPage(items: items, next: more ? items.last?.uuid : nil)
    }

    public func summaries(_ query: ContainerQuery) async throws(QueueError) -> ContainerSummaryPage {
        let (states, minPriority, maxPriority, after, limit) = Self.bounds(query)
        let logger = logger
        var items = try await withClient { client in
            var found: [ContainerSummary] = []
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.summaryColumn)
                FROM (SELECT uuid, state, priority, locked_by, doc::jsonb AS d FROM containers
                      WHERE state = ANY(\(states)) AND priority >= \(minPriority) AND priority <= \(maxPriority) AND uuid > \(after)
                      ORDER BY uuid LIMIT \(limit)) AS page
                ORDER BY uuid
                """, logger: logger)
            for try await doc in rows.decode(String.self) { found.append(try ContainerSummary.decode(doc)) }
            return found
        }
        let more = items.count > query.limit
        if more { items.removeLast() }
        return ContainerSummaryPage(items: items, next: more ? items.last?.uuid : nil)
    }

    /// A container's `ContainerSummary` document, built in SQL from its columns and `d` (its
    /// `doc` as jsonb): no command, environment or log.
    static let summaryColumn = """
        json_build_object('uuid', uuid, 'state', state, 'priority', priority, 'locked_by', locked_by,
                          'created_at', d -> 'created_at', 'runtime_constraints', d -> 'runtime_constraints',
                          'scheduling_parameters', d -> 'scheduling_parameters',
                          'scheduling_status', d #> '{runtime_status,scheduling_status}')::text
        """

    /// One page of `query` in SQL terms, one row past the page (to know whether another follows).
    private static func bounds(_ query: ContainerQuery) -> (states: [String], minPriority: Int, maxPriority: Int, after: String, limit: Int) {
        (
            query.states.isEmpty ? ContainerState.allCases.map(\.rawValue) : query.states.map(\.rawValue).sorted(),
            query.minPriority ?? Int.min, query.maxPriority ?? Int.max, query.after ?? "", query.limit + 1
        )
    }

    /// Read, decide in Swift (`Transition.apply`), write only if the row is still the version
    /// read: two round trips, no transaction, no row lock held across them. A writer that came
    /// in between makes the write miss; the event is then decided again on the new row, where
    /// it may well be illegal now (an error, never an overwrite).
    public func apply(_ event: Event, to uuid: String) async throws(QueueError) -> Container {
        let maxAttempts = policy.maxDispatchAttempts
        let logger = logger
        let epochs = epochs
        for _ in 0..<Self.maxWriteRaces {
            let read = try await withClient { client in
                var found: PostgresStatements.ReadVersioned.Row?
                for try await row in try await client.execute(PostgresStatements.ReadVersioned(uuids: [uuid]), logger: logger) { found = row }
                return found
            }
            guard let read else { throw .notFound(uuid: uuid) }
            let current: Container
            do { current = try ContainerCodec.decode(read.doc) } catch { throw .unavailable(Self.describe(error)) }
            // A cancel names no dispatcher: it is fenced under the holder's id when this process holds that id.
            let fence = epochs.fence(for: event.actingDispatcher ?? current.lockedBy)
            let next = try Transition.apply(event, to: current, now: Timestamp.now(), maxAttempts: maxAttempts)
            let written = try await withClient { client in
                var count = 0
                let write = PostgresStatements.WriteIfUnchanged(container: next, version: read.version, event: event.name, fence: fence)
                for try await n in try await client.execute(write, logger: logger) { count = n }
                return count
            }
            if written == 1 { return next }
            if let fence, let refusal = try await fenceRefusal(fence) { throw .fenced(refusal) }
        }
        throw .unavailable("container \(uuid) kept changing under \(event.name) (\(Self.maxWriteRaces) writes lost to other writers)")
    }

    /// How often a transition may lose its write to another writer before it gives up. Each
    /// loss means someone else's write committed, so this is only reached by a storm of writers.
    static let maxWriteRaces = 100

    /// Two round trips, no transaction: read the rows with their versions, lock the Queued ones in
    /// Swift (`Transition.apply`), then write those whose rows are unchanged and free in one
    /// statement (`WriteLocksIfUnchanged`). A row another writer changed or holds meanwhile
    /// stays Queued for the next round, as `SKIP LOCKED` left it before.
    public func lock(_ uuids: [String], by dispatcher: String) async throws(QueueError) -> [Container] {
        guard !uuids.isEmpty else { return [] }
        let maxAttempts = policy.maxDispatchAttempts
        let logger = logger
        let fence = epochs.fence(for: dispatcher)
        let read = try await withClient { client in
            var found: [PostgresStatements.ReadVersioned.Row] = []
            for try await row in try await client.execute(PostgresStatements.ReadVersioned(uuids: uuids), logger: logger) {
                found.append(row)
            }
            return found
        }
        let now = Timestamp.now()
        var decided: [(container: Container, version: String)] = []
        for (doc, version) in read {
            let queued: Container
            do { queued = try ContainerCodec.decode(doc) } catch { throw .unavailable(Self.describe(error)) }
            guard queued.state == .queued else { continue }  // locked by another, or ended: not ours to lock
            decided.append((try Transition.apply(.lock(by: dispatcher), to: queued, now: now, maxAttempts: maxAttempts), version))
        }
        guard !decided.isEmpty else { return [] }
        let write = PostgresStatements.WriteLocksIfUnchanged(locks: decided, docs: await ContainerCodec.encode(decided.map(\.container)), fence: fence)
        let written = try await withClient { client in
            var uuids = Set<String>()
            for try await uuid in try await client.execute(write, logger: logger) { uuids.insert(uuid) }
            return uuids
        }
        if written.isEmpty, let fence, let refusal = try await fenceRefusal(fence) { throw .fenced(refusal) }
        return decided.map(\.container).filter { written.contains($0.uuid) }
    }

    public func setSchedulingStatus(_ statuses: [String: String], by dispatcher: String) async throws(QueueError) {
        guard !statuses.isEmpty else { return }
        // One statement (atomic alone: no transaction round trips), the JSON set in place; rows
        // another transaction holds are skipped (their status is written again next round)
        // rather than waited for. Under a fence, nothing is written once the epoch moved on.
        let uuids = Array(statuses.keys)
        let values = uuids.map { statuses[$0]! }
        let fence = epochs.fence(for: dispatcher)
        let logger = logger
        let current: Int64?? = try await withClient { client in
            let rows = try await client.query(
                """
                WITH fence AS (SELECT \(fence: fence) AS held,
                                      (SELECT epoch FROM dispatcher_leases WHERE dispatcher_id = \(dispatcher)) AS epoch),
                     wanted AS (SELECT * FROM unnest(\(uuids)::text[], \(values)::text[]) AS w(uuid, status)),
                     target AS (SELECT c.uuid FROM containers c JOIN wanted USING (uuid)
                                WHERE (SELECT held FROM fence) AND c.state IN ('Queued', 'Locked')
                                  AND (c.doc::jsonb #>> '{runtime_status,scheduling_status}') IS DISTINCT FROM wanted.status
                                FOR UPDATE OF c SKIP LOCKED),
                     written AS (UPDATE containers SET doc = jsonb_set(doc::jsonb, '{runtime_status,scheduling_status}', to_jsonb(wanted.status))::text
                                 FROM wanted WHERE containers.uuid = wanted.uuid AND containers.uuid IN (SELECT uuid FROM target))
                SELECT held, epoch FROM fence
                """, logger: logger)
            for try await (held, epoch) in rows.decode((Bool, Int64?).self) where !held { return .some(epoch) }
            return nil
        }
        if let fence, let current { throw .fenced(fence.refusal(current: current)) }
    }

    public func changes() -> AsyncStream<Void> { notifier.stream() }

    public func probeWrite() async throws(QueueError) {
        let logger = logger
        try await transaction { db in
            _ = try await db.query(
                """
                INSERT INTO health_probe (id, probed_at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET probed_at = now()
                """, logger: logger)
        }
    }

    public func acquireLease(for dispatcher: String, holder: LeaseHolder) async throws(QueueError) -> any DispatcherLease {
        try await PostgresLease.acquire(url: url, dispatcher: dispatcher, holder: holder, epochs: epochs, logger: logger)
    }

    public func close() async {
        notifier.finish()
        for task in tasks { task.cancel() }
    }

    // MARK: - Helpers

    static func fetch(_ db: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> [Container] {
        var found: [Container] = []
        for try await doc in try await db.query(query, logger: logger).decode(String.self) {
            found.append(try ContainerCodec.decode(doc))
        }
        return found
    }

    static func fetch(_ client: PostgresClient, _ query: PostgresQuery, logger: Logger) async throws -> [Container] {
        var found: [Container] = []
        for try await doc in try await client.query(query, logger: logger).decode(String.self) {
            found.append(try ContainerCodec.decode(doc))
        }
        return found
    }

    /// Why writes under `fence` are refused now (its lease epoch moved on), or nil while it holds:
    /// a conditional write that changed no row was then only a lost race.
    func fenceRefusal(_ fence: Fence) async throws(QueueError) -> String? {
        let logger = logger
        let current = try await withClient { client in
            var epoch: Int64?
            for try await value in try await client.query(
                "SELECT epoch FROM dispatcher_leases WHERE dispatcher_id = \(fence.dispatcher)", logger: logger
            ).decode(Int64.self) {
                epoch = value
            }
            return epoch
        }
        return current == fence.epoch ? nil : fence.refusal(current: current)
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(QueueError) -> T {
        do {
            return try await client.withTransaction(logger: logger) { db in try await body(db) }
        } catch let error as QueueError {
            throw error
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError as? QueueError { throw inner }
            throw .unavailable(Self.describe(error))
        } catch {
            throw .unavailable(Self.describe(error))
        }
    }

    func withClient<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws(QueueError) -> T {
        do {
            return try await body(client)
        } catch let error as QueueError {
            throw error
        } catch {
            throw .unavailable(Self.describe(error))
        }
    }

    /// PSQLError hides details in `description`; the server's message is what an operator needs.
    static func describe(_ error: any Error) -> String {
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] { return "PostgreSQL: \(message)" }
            if let underlying = psql.underlying { return "PostgreSQL \(psql.code): \(underlying)" }
            return "PostgreSQL: \(psql.code)"
        }
        if let tx = error as? PostgresTransactionError, let inner = tx.closureError ?? tx.beginError ?? tx.commitError {
            return describe(inner)
        }
        return String(describing: error)
    }
}
