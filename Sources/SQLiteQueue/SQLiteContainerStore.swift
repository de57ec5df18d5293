import Foundation
import GRDB
import Queue
import Synchronization

/// The embedded queue store: one SQLite file in WAL mode, written through GRDB. Only one
/// process may open a given file (an advisory lock next to it enforces this); within the
/// process SQLite serialises writers, so a `lock` is simply a transaction.
///
/// Every commit is synced to disk before it returns (`synchronous = FULL`): a container the API
/// acknowledged survives a power cut or a filesystem error. The files are readable by their
/// owner only, since specs carry environment values.
///
///     let store = try SQLiteContainerStore.open(path: stateDir + "/queue.sqlite3")
///     defer { Task { await store.close() } }
public final class SQLiteContainerStore: ContainerStore {
    public let path: String
    let database: DatabasePool
    let fileLock: ExclusiveFileLock
    let policy: QueuePolicy
    let notifier = ChangeNotifier()
    /// The one member a single-process store has (see `SQLiteContainerStore+Membership`).
    let member = Mutex<DispatcherMember?>(nil)

    private init(path: String, database: DatabasePool, fileLock: ExclusiveFileLock, policy: QueuePolicy) {
        self.path = path
        self.database = database
        self.fileLock = fileLock
        self.policy = policy
    }

    /// Opens (creating if needed) the queue at `path` and brings its schema up to date.
    public static func open(path: String, policy: QueuePolicy = QueuePolicy()) throws(QueueError) -> SQLiteContainerStore {
        let lock: ExclusiveFileLock
        switch ExclusiveFileLock.acquire(path + ".lock") {
        case .success(let l): lock = l
        case .failure(let failure): throw .unavailable("queue database \(path) is \(failure.reason)")
        }
        do {
            try OwnerOnlyFiles.prepare(path)
            var config = Configuration()
            config.busyMode = .timeout(10)
            config.label = "queue"
            config.prepareDatabase { db in try Self.syncEveryCommit(db) }
            let pool = try DatabasePool(path: path, configuration: config)
            // GRDB turns the writer to `synchronous = NORMAL` when it enables WAL, after
            // `prepareDatabase`: in WAL mode that loses the last commits on a power cut.
            try pool.writeWithoutTransaction { db in try Self.syncEveryCommit(db) }
            try Self.migrator.migrate(pool)
            return SQLiteContainerStore(path: path, database: pool, fileLock: lock, policy: policy)
        } catch {
            lock.release()
            throw .unavailable("cannot open queue database \(path): \(error)")
        }
    }

    static func syncEveryCommit(_ db: Database) throws {
        try db.execute(sql: "PRAGMA synchronous = FULL")
        #if canImport(Darwin)
            try db.execute(sql: "PRAGMA fullfsync = ON")  // fsync alone does not reach the platter on macOS
        #endif
    }

    /// Versioned schema changes, applied in order, each once.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: containers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE containers (
                        uuid TEXT PRIMARY KEY NOT NULL,
                        state TEXT NOT NULL,
                        priority INTEGER NOT NULL,
                        locked_by TEXT,
                        client_request_id TEXT UNIQUE,
                        modified_at TEXT NOT NULL,
                        doc TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX containers_by_state ON containers (state, uuid);
                    """)
        }
        m.registerMigration("v2: health probe") { db in
            try db.execute(sql: "CREATE TABLE health_probe (id INTEGER PRIMARY KEY, probed_at TEXT NOT NULL)")
        }
        m.registerMigration("v3: create intents") { db in
            try db.execute(
                sql: """
                    CREATE TABLE create_intents (
                        token TEXT PRIMARY KEY NOT NULL,
                        instance_set TEXT NOT NULL,
                        type_name TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        secret TEXT,
                        created_at TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX create_intents_by_set ON create_intents (instance_set, created_at);
                    """)
        }
        m.registerMigration("v4: change feed") { db in
            // Each insert or update takes the next number of one counter (SQLite has one writer
            // at a time, so numbers commit in order); a reader asks for rows past the last it saw.
            // Rows from before the migration keep 0: a reader starts with a full read anyway.
            try db.execute(
                sql: """
                    ALTER TABLE containers ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX containers_by_change ON containers (change_seq);
                    CREATE TABLE change_counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
                    INSERT INTO change_counter (id, value) VALUES (1, 0);
                    CREATE TRIGGER containers_changed_on_insert AFTER INSERT ON containers BEGIN
                        UPDATE change_counter SET value = value + 1;
                        UPDATE containers SET change_seq = (SELECT value FROM change_counter) WHERE uuid = NEW.uuid;
                    END;
                    CREATE TRIGGER containers_changed_on_update AFTER UPDATE OF state, priority, locked_by, doc ON containers BEGIN
                        UPDATE change_counter SET value = value + 1;
                        UPDATE containers SET change_seq = (SELECT value FROM change_counter) WHERE uuid = NEW.uuid;
                    END;
                    """)
        }
        return m
    }

    // MARK: - ContainerStore

    public func submit(_ specs: [ContainerSpec]) async throws(QueueError) -> [Container] {
        try ContainerFactory.validate(specs)
        let made = try await write { db in
            try specs.map { spec -> Container in
                if let id = spec.clientRequestID,
                    let existing = try String.fetchOne(db, sql: "SELECT doc FROM containers WHERE client_request_id = ?", arguments: [id])
                {
                    let earlier = try ContainerCodec.decode(existing)
                    guard ContainerFactory.spec(of: earlier) == spec else {
                        throw QueueError.conflict("client_request_id \(id) was used for \(earlier.uuid) with a different spec")
                    }
                    return earlier
                }
                let c = ContainerFactory.make(spec, now: Timestamp.now())
                try db.execute(
                    sql: """
                        INSERT INTO containers (uuid, state, priority, locked_by, client_request_id, modified_at, doc)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        c.uuid, c.state.rawValue, c.priority, c.lockedBy, c.clientRequestID,
                        Timestamp.format(c.modifiedAt), ContainerCodec.encode(c),
                    ])
                return c
            }
        }
        notifier.notify()
        return made
    }

    public func get(_ uuid: String) async throws(QueueError) -> Container {
        let doc = try await read { db in try String.fetchOne(db, sql: "SELECT doc FROM containers WHERE uuid = ?", arguments: [uuid]) }
        guard let doc else { throw .notFound(uuid: uuid) }
        return try decode(doc)
    }

    public func list(_ query: ContainerQuery) async throws(QueueError) -> ContainerPage {
        let (sql, arguments) = Self.select("doc", query)
        let docs = try await read { db in try String.fetchAll(db, sql: sql, arguments: arguments) }
        var items = try docs.map { doc throws(QueueError) in try decode(doc) }
        let more = items.count > query.limit
        if more { items.removeLast() }
        return ContainerPage(items: items, next: more ? items.last?.uuid : nil)
    }

    public func summaries(_ query: ContainerQuery) async throws(QueueError) -> ContainerSummaryPage {
        let (sql, arguments) = Self.select(Self.summaryColumn, query)
        let docs = try await read { db in try String.fetchAll(db, sql: sql, arguments: arguments) }
        var items = try docs.map { doc throws(QueueError) in try decode(doc, with: ContainerSummary.decode) }
        let more = items.count > query.limit
        if more { items.removeLast() }
        return ContainerSummaryPage(items: items, next: more ? items.last?.uuid : nil)
    }

    /// A container's `ContainerSummary` document, built in SQL (no command, environment or log).
    static let summaryColumn = """
        json_object('uuid', uuid, 'state', state, 'priority', priority, 'locked_by', locked_by,
                    'created_at', doc -> '$.created_at', 'runtime_constraints', doc -> '$.runtime_constraints',
                    'scheduling_parameters', doc -> '$.scheduling_parameters',
                    'scheduling_status', doc -> '$.runtime_status.scheduling_status')
        """

    /// `SELECT what FROM containers` for one page of `query`, in submit order, one row past the
    /// page (to know whether another follows).
    private static func select(_ what: String, _ query: ContainerQuery) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if !query.states.isEmpty {
            clauses.append("state IN (" + query.states.map { _ in "?" }.joined(separator: ",") + ")")
            arguments += query.states.map(\.rawValue).sorted()
        }
        if let min = query.minPriority { clauses.append("priority >= ?"); arguments.append(min) }
        if let max = query.maxPriority { clauses.append("priority <= ?"); arguments.append(max) }
        if let after = query.after { clauses.append("uuid > ?"); arguments.append(after) }
        let sql =
            "SELECT \(what) FROM containers" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY uuid LIMIT \(query.limit + 1)"
        return (sql, StatementArguments(arguments.map { $0.databaseValue }))
    }

    public func apply(_ event: Event, to uuid: String) async throws(QueueError) -> Container {
        let maxAttempts = policy.maxDispatchAttempts
        let changed = try await write { db in
            guard let doc = try String.fetchOne(db, sql: "SELECT doc FROM containers WHERE uuid = ?", arguments: [uuid]) else {
                throw QueueError.notFound(uuid: uuid)
            }
            let next = try Transition.apply(event, to: try ContainerCodec.decode(doc), now: Timestamp.now(), maxAttempts: maxAttempts)
            try Self.update(db, next)
            return next
        }
        notifier.notify()
        return changed
    }

    public func lock(_ uuids: [String], by dispatcher: String) async throws(QueueError) -> [Container] {
        let maxAttempts = policy.maxDispatchAttempts
        let locked = try await write { db in
            var locked: [Container] = []
            for uuid in uuids {
                guard let doc = try String.fetchOne(db, sql: "SELECT doc FROM containers WHERE uuid = ? AND state = 'Queued'", arguments: [uuid])
                else { continue }
                let next = try Transition.apply(
                    .lock(by: dispatcher), to: try ContainerCodec.decode(doc), now: Timestamp.now(), maxAttempts: maxAttempts)
                try Self.update(db, next)
                locked.append(next)
            }
            return locked
        }
        if !locked.isEmpty { notifier.notify() }
        return locked
    }

    /// `dispatcher` is not checked: one process holds a SQLite queue, so no id is ever taken over.
    public func setSchedulingStatus(_ statuses: [String: String], by dispatcher: String) async throws(QueueError) {
        guard !statuses.isEmpty else { return }
        // Set in place by SQLite's JSON functions: a round can carry thousands of statuses, and
        // decoding and encoding each record was most of a round's time.
        try await write { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE containers SET doc = json_set(doc, '$.runtime_status.scheduling_status', ?1)
                    WHERE uuid = ?2 AND state IN ('Queued', 'Locked')
                      AND json_extract(doc, '$.runtime_status.scheduling_status') IS NOT ?1
                    """)
            for (uuid, status) in statuses { try update.execute(arguments: [status, uuid]) }
        }
    }

    public func changes() -> AsyncStream<Void> { notifier.stream() }

    public func probeWrite() async throws(QueueError) {
        try await write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO health_probe (id, probed_at) VALUES (1, ?)", arguments: [Timestamp.format(Date())])
        }
    }

    /// The file lock taken at `open` already admits one process per queue file, for its life.
    public func acquireLease(for dispatcher: String, holder: LeaseHolder) async throws(QueueError) -> any DispatcherLease {
        ExclusiveStoreLease()
    }

    public func close() async {
        notifier.finish()
        try? database.close()
        fileLock.release()
    }

    // MARK: - Helpers

    static func update(_ db: Database, _ c: Container) throws {
        try db.execute(
            sql: """
                UPDATE containers SET state = ?, priority = ?, locked_by = ?, modified_at = ?, doc = ? WHERE uuid = ?
                """, arguments: [c.state.rawValue, c.priority, c.lockedBy, Timestamp.format(c.modifiedAt), ContainerCodec.encode(c), c.uuid])
    }

    private func decode(_ doc: String) throws(QueueError) -> Container { try decode(doc, with: ContainerCodec.decode) }

    func decode<T>(_ doc: String, with reader: (String) throws -> T) throws(QueueError) -> T {
        do { return try reader(doc) } catch { throw .unavailable("a stored container does not decode: \(error)") }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(QueueError) -> T {
        do {
            return try await database.write(body)
        } catch let error as QueueError {
            throw error
        } catch {
            throw .unavailable("\(error)")
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(QueueError) -> T {
        do {
            return try await database.read(body)
        } catch {
            throw .unavailable("\(error)")
        }
    }
}
