import Foundation
import Logging
import PluginABI

/// Loads every `libcdd_*.so` of a plugins folder, refusing, with one precise reason each,
/// files that are unsafe, not drivers, or incompatible.
///
///     let loader = DriverLoader(pool: pool, logger: logger)
///     let report = await loader.load(folder: PluginsFolder.resolve(flag: nil).path)
///     for refusal in report.refused { print(refusal) }
///     let loopback = report.driver(id: "loopback")
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
    /// The highest ABI version this host offers. Tests lower or raise it to check skew.
    public var hostVersion: ABIVersion = .host
    /// Bytes of `cdd_driver` the host offers (>= the header's size). Tests raise it to act
    /// as a future host with a longer table.
    public var driverTableSize: Int = MemoryLayout<cdd_driver>.size
    /// Tries each file in a child process first; nil loads straight into this process.
    public var vetter: DriverVetter?
    /// Told each stage before it starts (the vetting child reports them to the daemon).
    public var progress: (@Sendable (LoadStage) -> Void)?

    public init(pool: BlockingPool, logger: Logger, callTimeout: Duration = .seconds(120)) {
        self.pool = pool
        self.logger = logger
        self.callTimeout = callTimeout
    }

    /// Loads a folder on the blocking pool (dlopen runs library constructors and may block).
    /// `only`: with a vetter, the driver id wanted; other files are vetted but not loaded here.
    /// `inThisProcess` false: not even that one (it is to run in a driver process; see `skipped`).
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
        for name in PluginsFolder.driverFiles(in: folder) {
            let path = folder + "/" + name
            let result: Result<NativeDriver, Refusal>
            switch check(path, folder: folder) {
            case .failure(let refusal):
                result = .failure(refusal)
            case .success(let checked):
                if var vetted = checked.vetted, !inThisProcess || (wanted != nil && vetted.id != wanted) {
                    vetted.path = path
                    vetted.realPath = checked.realPath == path ? nil : checked.realPath
                    report.skipped.append(vetted)
                    continue
                }
                result = loadChecked(checked)
            }
            switch result {
            case .success(let driver):
                if let first = report.drivers.first(where: { $0.info.id == driver.info.id }) {
                    report.refused.append(
                        Refusal(path: path, reason: "duplicate driver id '\(driver.info.id)' (already loaded from \(first.info.path))"))
                } else {
                    report.drivers.append(driver)
                }
            case .failure(let refusal):
                report.refused.append(refusal)
            }
        }
        for driver in report.drivers {
            logger.info(
                "driver loaded",
                metadata: [
                    "driver": "\(driver.info.id)", "version": "\(driver.info.version)",
                    "abi": "\(driver.info.abi)", "path": "\(driver.info.path)",
                ])
        }
        for refusal in report.refused {
            logger.error("driver refused", metadata: ["path": "\(refusal.path)", "reason": "\(refusal.reason)"])
        }
        return report
    }

    /// Loads one file: safety checks, vetting (with a vetter), dlopen, negotiate, open, table checks.
    /// `folder`: the plugins folder it is in, up to which a symbolic link's target folders are checked.
    public func loadFile(_ path: String, folder: String? = nil) -> Result<NativeDriver, Refusal> {
        check(path, folder: folder).flatMap { loadChecked($0) }
    }

    /// A file that passed the checks that come before this process runs its code.
    public struct CheckedFile: Sendable {
        /// As found in the folder (a link's own path).
        public var path: String
        /// What is loaded: the link's target, resolved.
        public var realPath: String
        /// What the vetting child loaded, when there is a vetter.
        public var vetted: DriverInfo?
    }

    /// The checks before this process runs any code of the file: ownership and mode (of a
    /// link's target and its folders too), ELF magic, and the vetting child.
    public func check(_ path: String, folder: String?) -> Result<CheckedFile, Refusal> {
        logger.info("checking driver file", metadata: ["path": "\(path)"])
        let realPath: String
        switch PluginsFolder.checkDriverFile(path, folder: folder) {
        case .success(let real): realPath = real
        case .failure(let problem): return .failure(Refusal(path: path, reason: problem.reason))
        }
        guard Self.isELF(realPath) else { return .failure(Refusal(path: path, reason: "not an ELF shared object")) }
        var checked = CheckedFile(path: path, realPath: realPath)
        if let vetter {
            logger.info("vetting driver file in a child process", metadata: ["path": "\(realPath)"])
            switch vetter.vet(realPath, hostVersion: hostVersion, tableSize: driverTableSize) {
            case .passed(let info): checked.vetted = info
            case .refused(let reason): return .failure(Refusal(path: path, reason: reason))
            }
        }
        return .success(checked)
    }

    /// Loads a checked file into this process.
    public func loadChecked(_ checked: CheckedFile) -> Result<NativeDriver, Refusal> {
        let path = checked.path
        func refuse(_ reason: String) -> Result<NativeDriver, Refusal> { .failure(Refusal(path: path, reason: reason)) }
        logger.info("loading driver file", metadata: ["path": "\(checked.realPath)"])
        progress?(.loading)
        guard let handle = dlopen(checked.realPath, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            return refuse("dlopen failed: \(String(cString: dlerror()))")
        }
        guard let negotiateSymbol = dlsym(handle, CDD_NEGOTIATE_SYMBOL) else {
            return refuse("not a CloudDispatch driver (no exported function \(CDD_NEGOTIATE_SYMBOL))")
        }
        guard let openSymbol = dlsym(handle, CDD_OPEN_SYMBOL) else {
            return refuse("not a CloudDispatch driver (no exported function \(CDD_OPEN_SYMBOL))")
        }
        let negotiate = unsafeBitCast(negotiateSymbol, to: cdd_negotiate_fn.self)
        let open = unsafeBitCast(openSymbol, to: cdd_open_fn.self)

        var agreedPacked: UInt32 = 0
        progress?(.negotiate)
        let status = negotiate(hostVersion.packed, &agreedPacked)
        guard status == CDD_OK else {
            return refuse("driver refused host ABI \(hostVersion) (\(Self.statusName(status))); it was built for another major version")
        }
        let agreed = ABIVersion(packed: agreedPacked)
        guard agreed.major == hostVersion.major else {
            return refuse("incompatible ABI: driver answered \(agreed), host speaks \(hostVersion.major).x")
        }
        guard agreed.minor <= hostVersion.minor else {
            return refuse("broken negotiation: driver answered \(agreed), above the host's \(hostVersion)")
        }

        let services = HostServices(logger: logger, label: (path as NSString).lastPathComponent)
        let host = services.makeHostTable(agreed: agreed)
        let tableSize = max(driverTableSize, MemoryLayout<cdd_driver>.size)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: tableSize, alignment: MemoryLayout<cdd_driver>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: tableSize)
        let table = raw.bindMemory(to: cdd_driver.self, capacity: 1)
        table.pointee.struct_size = UInt32(tableSize)
        table.pointee.abi_version = agreed.packed

        var error = cdd_error()
        error.struct_size = UInt32(MemoryLayout<cdd_error>.size)
        progress?(.open)
        let openStatus = open(agreed.packed, host, table, &error)
        guard openStatus == CDD_OK else {
            let message = CText.line(tuple: error.message, capacity: 512)
            return refuse("cdd_open failed (\(Self.statusName(openStatus))): \(message)")
        }
        // Nothing below frees `table` or `host`: after cdd_open the driver may hold them.
        let filled = Int(table.pointee.struct_size)
        let minimum = Int(cdd_driver_size_v1_0())
        guard filled >= minimum else {
            return refuse("function table too small (\(filled) bytes; ABI \(agreed.major).0 needs at least \(minimum))")
        }
        guard filled <= tableSize else {
            return refuse("driver claims a \(filled)-byte function table but the host offered \(tableSize)")
        }
        let d = table.pointee
        let mandatory: [(String, Bool)] = [
            ("id", d.id != nil), ("version", d.version != nil), ("capabilities", d.capabilities != nil),
            ("open_set", d.open_set != nil), ("close_set", d.close_set != nil), ("create", d.create != nil),
            ("list", d.list != nil), ("destroy", d.destroy != nil), ("set_tags", d.set_tags != nil),
            ("instance_types", d.instance_types != nil), ("quota_group", d.quota_group != nil),
            ("free_string", d.free_string != nil),
        ]
        if let missing = mandatory.first(where: { !$0.1 }) {
            return refuse("mandatory member '\(missing.0)' is NULL")
        }
        let id = CText.line(d.id!, limit: 64)
        guard Self.isValidID(id) else {
            return refuse("invalid driver id \"\(id)\" (must match [a-z][a-z0-9_]{0,31})")
        }
        services.label.withLock { $0 = id }
        let info = DriverInfo(
            id: id, version: CText.line(d.version!, limit: 64),
            description: d.description.map { CText.line($0, limit: 256) } ?? "",
            abi: agreed.description, path: path, realPath: checked.realPath == path ? nil : checked.realPath)
        return .success(
            NativeDriver(
                info: info, agreed: agreed, table: table, pool: pool,
                callTimeout: callTimeout, logger: logger))
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

    public func driver(id: String) -> NativeDriver? { drivers.first { $0.info.id == id } }
    public func executor(id: String) -> (any ExecutorPlugin)? { executors.first { $0.info.id == id } }

    /// Ids of every driver found usable, loaded or not.
    public var usableIDs: [String] { (drivers.map(\.info) + skipped).map(\.id).sorted() }
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
