import Foundation
import Logging
import Units

/// Tries a driver or executor file in a short-lived child process (this executable's hidden `driver-vet`
/// subcommand) before the daemon loads it, so a library that crashes, hangs or exits while it
/// loads, negotiates or opens is refused by name instead of taking the daemon with it.
///
///     let vetter = DriverVetter(executable: HelperProcess.currentExecutable())
///     switch vetter.vet("/usr/lib/cloud-dispatch/drivers/libcdd_ec2.so", hostVersion: .host, tableSize: size) {
///     case .passed(let info): ...            // safe to dlopen here
///     case .refused(let reason): ...         // "killed by SIGABRT while loading"
///     }
///
/// Each stage (dlopen, `cdd_negotiate`, `cdd_open`) has `deadline` to finish; the child reports
/// each stage before it enters it, so a hang or a crash names the stage it happened in.
public struct DriverVetter: Sendable {
    /// The executable that serves `subcommand` (the daemon's own).
    public var executable: String
    /// How long each stage may take.
    public var deadline: Duration
    /// How long the child may take to start, before it touches the file (a busy machine).
    public var startDeadline: Duration = .seconds(60)

    /// The hidden subcommand of `cloud-dispatch` that runs `runChild`.
    public static let subcommand = "driver-vet"

    public init(executable: String, deadline: Duration = .seconds(10)) {
        self.executable = executable
        self.deadline = deadline
    }

    public enum Verdict: Sendable {
        case passed(DriverInfo)
        case refused(String)
    }

    /// One frame from the vetting child: a stage it is entering, or its result.
    struct Report: Codable {
        var stage: LoadStage?
        var loaded: DriverInfo?
        var refused: String?
    }

    /// Tries `path` in a child as a plugin of `kind`; blocks the calling thread (at most a few deadlines).
    public func vet(_ path: String, kind: PluginKind = .driver, hostVersion: ABIVersion, tableSize: Int) -> Verdict {
        let child: HelperProcess
        do {
            // No Swift crash report for a library that dies: the refusal line says what happened.
            child = try HelperProcess(
                executable,
                [Self.subcommand, "--kind", kind.rawValue, "--abi", "\(hostVersion.packed)", "--table-size", "\(tableSize)", path],
                environment: ["SWIFT_BACKTRACE": "enable=no"])
        } catch {
            return .refused("cannot start the vetting process: \(error)")
        }
        defer {
            child.kill()
            child.wait()
        }
        var stage: LoadStage?
        while true {
            let limit = stage == nil ? startDeadline : deadline
            switch Frames.read(child.reports, deadline: .now + limit) {
            case .frame(let data):
                guard let report = Frames.decode(Report.self, data) else { return .refused("vetting process sent an unreadable report") }
                if let refused = report.refused { return .refused(refused) }
                if let loaded = report.loaded { return .passed(loaded) }
                if let next = report.stage { stage = next }
            case .timedOut:
                guard let stage else { return .refused("the vetting process (\(executable)) did not start within \(Self.seconds(startDeadline))") }
                return .refused(stage.hang(within: Self.seconds(deadline), kind: kind))
            case .end, .broken:
                child.kill(SIGKILL)  // a grandchild may hold the pipe open; the child itself has ended or will now
                let ended = child.wait()
                guard let stage else { return .refused("the vetting process \(ended) before it touched the file") }
                return .refused("\(ended) \(stage.during(kind))")
            }
        }
    }

    /// The child's side: loads `path` as the daemon would, reporting each stage and the result
    /// as frames on fd 3. Returns the exit status.
    public static func runChild(path: String, kind: PluginKind = .driver, hostVersion: ABIVersion, tableSize: Int, logger: Logger) -> Int32 {
        let reports: Int32 = 3
        _ = fcntl(reports, F_SETFD, FD_CLOEXEC)  // not for whatever the library starts
        var loader = DriverLoader(pool: BlockingPool(name: "vet", threads: 1), logger: logger)
        if kind == .driver {
            loader.hostVersion = hostVersion
            loader.driverTableSize = tableSize
        } else {
            loader.executorHostVersion = hostVersion
            loader.executorTableSize = tableSize
        }
        loader.progress = { stage in try? Frames.write(reports, Report(stage: stage)) }
        let report: Report =
            switch loader.loadPluginFile(path, kind: kind) {
            case .success(let plugin): Report(loaded: plugin.info)
            case .failure(let refusal): Report(refused: refusal.reason)
            }
        do { try Frames.write(reports, report) } catch { return 1 }
        return 0
    }

    /// "10 s", "1.5 s", "250 ms".
    static func seconds(_ d: Duration) -> String {
        let ms = d.inMilliseconds
        if ms % 1000 == 0 { return "\(ms / 1000) s" }
        return ms >= 1000 ? String(format: "%.1f s", Double(ms) / 1000) : "\(ms) ms"
    }
}

/// The steps of loading a plugin file that run its code (named after the driver's entry points;
/// `PluginKind.symbol(of:)` gives an executor's).
public enum LoadStage: String, Sendable, Codable {
    case loading = "dlopen"
    case negotiate = "cdd_negotiate"
    case open = "cdd_open"

    /// "while loading", "in cdd_negotiate", "in cdx_open".
    func during(_ kind: PluginKind) -> String { kind.symbol(of: self).map { "in \($0)" } ?? "while loading" }

    func hang(within deadline: String, kind: PluginKind) -> String {
        kind.symbol(of: self).map { "\($0) did not return within \(deadline)" }
            ?? "did not finish loading (dlopen and its constructors) within \(deadline)"
    }
}
