import Foundation
import Logging
import PluginABI

/// Loads every `libcdd_*.so` (cloud driver) and `libcdx_*.so` (executor backend) of a plugins
/// folder, refusing, with one precise reason each, files that are unsafe, not plugins of their
/// kind, or incompatible. Both kinds pass the same checks; only the entry points and the
/// table differ (`PluginKind`, `PluginTable`).
///
///     let loader = DriverLoader(pool: pool, logger: logger)
///     let report = await loader.load(folder: PluginsFolder.resolve(flag: nil).path)
///     for refusal in report.refused { print(refusal) }
///     let loopback = report.driver(id: "loopback")
///     let slurm = report.executor(id: "slurm")
///
/// With a `vetter`, each file is first tried in a child process (see `DriverVetter`): one that
/// crashes or hangs there is refused and never enters this process.
///
/// Files are opened with RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE and never closed: unloading a
/// library that contains Swift code leaves dangling runtime metadata behind.
public struct DriverLoader: Sendable {
    public var pool: BlockingPool
    public var logger: Logger
    /// Bound on every driver call, queueing included.
    public var callTimeout: Duration
    /// The highest driver ABI version this host offers. Tests lower or raise it to check skew.
    public var hostVersion: ABIVersion = .host
    /// Bytes of `cdd_driver` the host offers (>= the header's size). Tests raise it to act
    /// as a future host with a longer table.
    public var driverTableSize: Int = MemoryLayout<cdd_driver>.size
    /// The highest executor ABI version this host offers.
    public var executorHostVersion: ABIVersion = .executorHost
    /// Bytes of `cdx_executor` the host offers (>= the header's size).
    public var executorTableSize: Int = MemoryLayout<cdx_executor>.size
    /// Tries each file in a child process first; nil loads straight into this process.
    public var vetter: DriverVetter?
    /// Told each stage before it starts (the vetting child reports them to the daemon).
    public var progress: (@Sendable (LoadStage) -> Void)?

    public init(pool: BlockingPool, logger: Logger, callTimeout: Duration = .seconds(120)) {
        self.pool = pool
        self.logger = logger
        self.callTimeout = callTimeout
    }

    /// The version and table size this host offers plugins of `kind`.
    public func offer(_ kind: PluginKind) -> (version: ABIVersion, tableSize: Int) {
        kind == .driver ? (hostVersion, driverTableSize) : (executorHostVersion, executorTableSize)
    }

    /// Loads a folder on the blocking pool (dlopen runs library constructors and may block).
    /// `only`: with a vetter, the plugin id wanted (a driver's or an executor's); other files
    /// are vetted but not loaded here. `inThisProcess` false: not even that one (it is to run
    /// in a driver process; see `skipped`).
    public func load(folder: String, only wanted: String? = nil, inThisProcess: Bool = true) async -> LoadReport {
        let loader = self
        do {
            return try await pool.run { loader.loadNow(folder: folder, only: wanted, inThisProcess: inThisProcess) }
        } catch {
            return LoadReport(folder: folder, drivers: [], refused: [Refusal(path: folder, reason: "load cancelled")])
        }
    }

    /// Loads a folder on the calling thread.
    public func loadNow(folder: String, only wanted: String? = nil, inThisProcess: Bool = true) -> LoadReport {
        var report = LoadReport(folder: folder, drivers: [], refused: [])
        if let reason = PluginsFolder.unsafeReason(path: folder, expectDirectory: true) {
            report.refused.append(Refusal(path: folder, reason: "plugins folder refused: \(reason)"))
            logger.error("plugins folder refused", metadata: ["path": "\(folder)", "reason": "\(reason)"])
            return report
        }
        for kind in PluginKind.allCases {
            for name in PluginsFolder.pluginFiles(in: folder, kind: kind) {
                let path = folder + "/" + name
                let result: Result<LoadedPlugin, Refusal>
                switch check(path, folder: folder, kind: kind) {
                case .failure(let refusal):
                    result = .failure(refusal)
                case .success(let checked):
                    if var vetted = checked.vetted, !inThisProcess || (wanted != nil && vetted.id != wanted) {
                        vetted.path = path
                        vetted.realPath = checked.realPath == path ? nil : checked.realPath
                        if kind == .driver { report.skipped.append(vetted) } else { report.skippedExecutors.append(vetted) }
                        continue
                    }
                    result = loadCheckedPlugin(checked)
                }
                switch result {
                case .success(let plugin):
                    if let first = report.loadedInfo(kind).first(where: { $0.id == plugin.info.id }) {
                        refuse(
                            Refusal(path: path, reason: "duplicate \(kind.shortNoun) id '\(plugin.info.id)' (already loaded from \(first.path))"),
                            kind, in: &report)
                    } else {
                        switch plugin {
                        case .driver(let driver): report.drivers.append(driver)
                        case .executor(let executor): report.executors.append(executor)
                        }
                        logger.info(
                            "\(kind.shortNoun) loaded",
                            metadata: [
                                kind.shortNoun: "\(plugin.info.id)", "version": "\(plugin.info.version)",
                                "abi": "\(plugin.info.abi)", "path": "\(plugin.info.path)",
                            ])
                    }
                case .failure(let refusal):
                    refuse(refusal, kind, in: &report)
                }
            }
        }
        return report
    }

    private func refuse(_ refusal: Refusal, _ kind: PluginKind, in report: inout LoadReport) {
        report.refused.append(refusal)
        logger.error("\(kind.shortNoun) refused", metadata: ["path": "\(refusal.path)", "reason": "\(refusal.reason)"])
    }

    /// Loads one driver file: safety checks, vetting (with a vetter), dlopen, negotiate, open, table checks.
    /// `folder`: the plugins folder it is in, up to which a symbolic link's target folders are checked.
    public func loadFile(_ path: String, folder: String? = nil) -> Result<NativeDriver, Refusal> {
        check(path, folder: folder).flatMap { loadChecked($0) }
    }

    /// Loads one executor backend file, as `loadFile` a driver file.
    public func loadExecutorFile(_ path: String, folder: String? = nil) -> Result<NativeExecutor, Refusal> {
        loadPluginFile(path, folder: folder, kind: .executor).flatMap { plugin in
            guard case .executor(let executor) = plugin else { return .failure(Refusal(path: path, reason: "not an executor backend")) }
            return .success(executor)
        }
    }

    /// Loads one file of either kind.
    public func loadPluginFile(_ path: String, folder: String? = nil, kind: PluginKind) -> Result<LoadedPlugin, Refusal> {
        check(path, folder: folder, kind: kind).flatMap { loadCheckedPlugin($0) }
    }

    /// A file that passed the checks that come before this process runs its code.
    public struct CheckedFile: Sendable {
        /// As found in the folder (a link's own path).
        public var path: String
        /// What is loaded: the link's target, resolved.
        public var realPath: String
        /// What the vetting child loaded, when there is a vetter.
        public var vetted: DriverInfo?
        /// What it is to be loaded as.
        public var kind: PluginKind = .driver
    }

    /// The checks before this process runs any code of the file: ownership and mode (of a
    /// link's target and its folders too), ELF magic, and the vetting child.
    public func check(_ path: String, folder: String?, kind: PluginKind = .driver) -> Result<CheckedFile, Refusal> {
        logger.info("checking \(kind.shortNoun) file", metadata: ["path": "\(path)"])
        let realPath: String
        switch PluginsFolder.checkDriverFile(path, folder: folder) {
        case .success(let real): realPath = real
        case .failure(let problem): return .failure(Refusal(path: path, reason: problem.reason))
        }
        guard Self.isELF(realPath) else { return .failure(Refusal(path: path, reason: "not an ELF shared object")) }
        var checked = CheckedFile(path: path, realPath: realPath, kind: kind)
        if let vetter {
            logger.info("vetting \(kind.shortNoun) file in a child process", metadata: ["path": "\(realPath)"])
            let offered = offer(kind)
            switch vetter.vet(realPath, kind: kind, hostVersion: offered.version, tableSize: offered.tableSize) {
            case .passed(let info): checked.vetted = info
            case .refused(let reason): return .failure(Refusal(path: path, reason: reason))
            }
        }
        return .success(checked)
    }

    /// Loads a checked driver file into this process.
    public func loadChecked(_ checked: CheckedFile) -> Result<NativeDriver, Refusal> {
        openTable(checked, as: cdd_driver.self).map { opened in
            NativeDriver(info: opened.info, agreed: opened.agreed, table: opened.table, pool: pool, callTimeout: callTimeout, logger: logger)
        }
    }

    /// Loads a checked file of either kind into this process.
    public func loadCheckedPlugin(_ checked: CheckedFile) -> Result<LoadedPlugin, Refusal> {
        switch checked.kind {
        case .driver: return loadChecked(checked).map { .driver($0) }
        case .executor:
            return openTable(checked, as: cdx_executor.self).map { opened in
                .executor(
                    NativeExecutor(
                        info: opened.info, agreed: opened.agreed, table: opened.table, pool: pool, callTimeout: callTimeout, logger: logger))
            }
        }
    }

    /// dlopen, negotiate, open and the table checks, the same for every kind.
    func openTable<Table: PluginTable>(_ checked: CheckedFile, as: Table.Type) -> Result<OpenedTable<Table>, Refusal> {
        let path = checked.path
        let kind = Table.kind
        func refuse(_ reason: String) -> Result<OpenedTable<Table>, Refusal> { .failure(Refusal(path: path, reason: reason)) }
        logger.info("loading \(kind.shortNoun) file", metadata: ["path": "\(checked.realPath)"])
        progress?(.loading)
        guard let handle = dlopen(checked.realPath, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            return refuse("dlopen failed: \(String(cString: dlerror()))")
        }
        guard let negotiateSymbol = dlsym(handle, kind.negotiateSymbol) else {
            return refuse("not a CloudDispatch \(kind.noun) (no exported function \(kind.negotiateSymbol))")
        }
        guard let openSymbol = dlsym(handle, kind.openSymbol) else {
            return refuse("not a CloudDispatch \(kind.noun) (no exported function \(kind.openSymbol))")
        }
        // Both kinds' entry points have these shapes; only the table pointer's type differs.
        typealias OpenFunction =
            @convention(c) (UInt32, UnsafePointer<cdd_host>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<cdd_error>?) -> Int32
        let negotiate = unsafeBitCast(negotiateSymbol, to: cdd_negotiate_fn.self)
        let open = unsafeBitCast(openSymbol, to: OpenFunction.self)
        let (hostVersion, offeredSize) = offer(kind)

        var agreedPacked: UInt32 = 0
        progress?(.negotiate)
        let status = negotiate(hostVersion.packed, &agreedPacked)
        guard status == CDD_OK else {
            return refuse("\(kind.shortNoun) refused host ABI \(hostVersion) (\(Self.statusName(status))); it was built for another major version")
        }
        let agreed = ABIVersion(packed: agreedPacked)
        guard agreed.major == hostVersion.major else {
            return refuse("incompatible ABI: \(kind.shortNoun) answered \(agreed), host speaks \(hostVersion.major).x")
        }
        guard agreed.minor <= hostVersion.minor else {
            return refuse("broken negotiation: \(kind.shortNoun) answered \(agreed), above the host's \(hostVersion)")
        }

        let services = HostServices(logger: logger, label: (path as NSString).lastPathComponent)
        let host = services.makeHostTable(agreed: agreed)
        let tableSize = max(offeredSize, MemoryLayout<Table>.size)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: tableSize, alignment: MemoryLayout<Table>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: tableSize)
        let table = raw.bindMemory(to: Table.self, capacity: 1)
        table.pointee.struct_size = UInt32(tableSize)
        table.pointee.abi_version = agreed.packed

        var error = cdd_error()
        error.struct_size = UInt32(MemoryLayout<cdd_error>.size)
        progress?(.open)
        let openStatus = open(agreed.packed, host, raw, &error)
        guard openStatus == CDD_OK else {
            let message = CText.line(tuple: error.message, capacity: 512)
            return refuse("\(kind.openSymbol) failed (\(Self.statusName(openStatus))): \(message)")
        }
        // Nothing below frees `table` or `host`: after the open call the plugin may hold them.
        let filled = Int(table.pointee.struct_size)
        let minimum = Table.minimumSize
        guard filled >= minimum else {
            return refuse("function table too small (\(filled) bytes; ABI \(agreed.major).0 needs at least \(minimum))")
        }
        guard filled <= tableSize else {
            return refuse("\(kind.shortNoun) claims a \(filled)-byte function table but the host offered \(tableSize)")
        }
        let filledTable = table.pointee
        if let missing = filledTable.mandatoryMembers.first(where: { !$0.1 }) {
            return refuse("mandatory member '\(missing.0)' is NULL")
        }
        let identity = filledTable.identity
        let id = CText.line(identity.id!, limit: 64)
        guard Self.isValidID(id) else {
            return refuse("invalid \(kind.shortNoun) id \"\(id)\" (must match [a-z][a-z0-9_]{0,31})")
        }
        services.label.withLock { $0 = id }
        let info = DriverInfo(
            id: id, version: CText.line(identity.version!, limit: 64),
            description: identity.description.map { CText.line($0, limit: 256) } ?? "",
            abi: agreed.description, path: path, realPath: checked.realPath == path ? nil : checked.realPath, kind: kind)
        return .success(OpenedTable(info: info, agreed: agreed, table: table, services: services))
    }

    static func isELF(_ path: String) -> Bool {
        guard let file = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? file.close() }
        let magic = (try? file.read(upToCount: 4)) ?? Data()
        return magic == Data([0x7f, 0x45, 0x4c, 0x46])
    }

    static func isValidID(_ id: String) -> Bool {
        let scalars = Array(id.unicodeScalars)
        guard (1...32).contains(scalars.count), ("a"..."z").contains(scalars[0]) else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func statusName(_ status: Int32) -> String {
        status == CDD_OK ? "ok" : (ErrorClass(rawValue: status)?.name ?? "unknown status \(status)")
    }
}

/// What loading a plugins folder produced.
public struct LoadReport: Sendable {
    public var folder: String
    public var drivers: [NativeDriver]
    public var refused: [Refusal]
    /// Files that passed vetting but were not loaded into this process: another driver was
    /// asked for, or this one is to run in a driver process.
    public var skipped: [DriverInfo] = []
    /// Executor backends (`libcdx_<name>.so`) found in the same folder.
    public var executors: [any ExecutorPlugin] = []
    /// Executor files that passed vetting but were not loaded into this process (`skipped`'s twin).
    public var skippedExecutors: [DriverInfo] = []

    public func driver(id: String) -> NativeDriver? { drivers.first { $0.info.id == id } }
    public func executor(id: String) -> (any ExecutorPlugin)? { executors.first { $0.info.id == id } }
    /// The executor `id` as loaded from its `.so` (what the conformance kit needs).
    public func nativeExecutor(id: String) -> NativeExecutor? { executor(id: id) as? NativeExecutor }

    /// Ids of every driver found usable, loaded or not.
    public var usableIDs: [String] { (drivers.map(\.info) + skipped).map(\.id).sorted() }
    /// Ids of every executor backend found usable, loaded or not.
    public var usableExecutorIDs: [String] { (executors.map(\.info) + skippedExecutors).map(\.id).sorted() }

    func loadedInfo(_ kind: PluginKind) -> [DriverInfo] { kind == .driver ? drivers.map(\.info) : executors.map(\.info) }
}

/// One loaded plugin, of either kind.
public enum LoadedPlugin: Sendable {
    case driver(NativeDriver)
    case executor(NativeExecutor)

    public var info: DriverInfo {
        switch self {
        case .driver(let driver): driver.info
        case .executor(let executor): executor.info
        }
    }
}

/// A file (or the folder) that was not loaded, and why.
public struct Refusal: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}
