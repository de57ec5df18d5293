import Foundation
import Units

/// Where drivers and executor backends are loaded from, and the safety checks that come before any `dlopen` (which
/// runs the library's code).
///
///     let folder = PluginsFolder.resolve(flag: options.plugins)
///     let report = await loader.load(folder: folder.path)
public struct PluginsFolder: Sendable, Equatable {
    public enum Source: String, Sendable {
        case flag = "--plugins"
        case environment = "CLOUD_DISPATCH_PLUGINS"
        case besideExecutable = "next to the executable"
        case installed = "installed default"
    }

    public let path: String
    public let source: Source

    public init(path: String, source: Source) {
        self.path = path
        self.source = source
    }

    /// Environment variable that names the plugins folder.
    public static let environmentVariable = "CLOUD_DISPATCH_PLUGINS"

    /// The folder to use: `--plugins`, then `$CLOUD_DISPATCH_PLUGINS`, then the executable's
    /// own folder when it holds drivers (a build tree), then `<prefix>/lib/cloud-dispatch/drivers`
    /// relative to an executable installed in `<prefix>/bin`.
    public static func resolve(
        flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        executableFolder: String = Self.executableFolder()
    ) -> PluginsFolder {
        if let flag, !flag.isEmpty { return PluginsFolder(path: flag, source: .flag) }
        if let env = environment[environmentVariable], !env.isEmpty {
            return PluginsFolder(path: env, source: .environment)
        }
        if !driverFiles(in: executableFolder).isEmpty {
            return PluginsFolder(path: executableFolder, source: .besideExecutable)
        }
        let prefix = (executableFolder as NSString).deletingLastPathComponent
        return PluginsFolder(path: prefix + "/lib/cloud-dispatch/drivers", source: .installed)
    }

    /// The folder of the running executable (from /proc/self/exe).
    public static func executableFolder() -> String {
        let target =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (target as NSString).deletingLastPathComponent
    }

    /// Driver file names (`libcdd_*.so`) in a folder, sorted; empty when unreadable.
    public static func driverFiles(in folder: String) -> [String] { pluginFiles(in: folder, kind: .driver) }

    /// File names of one plugin kind (`libcdd_*.so`, `libcdx_*.so`) in a folder, sorted; empty when unreadable.
    public static func pluginFiles(in folder: String, kind: PluginKind) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { PluginKind(fileName: $0) == kind }.sorted()
    }

    /// Why a folder or file must not be trusted, or nil when it may be loaded from: it must
    /// exist, be owned by root or by this process's user, and not be writable by group or
    /// others (anyone who can write there can run code inside the daemon).
    /// `allowSticky`: a root-owned sticky folder such as /tmp passes (no one can replace what
    /// others put there); used for the folders above a link's target.
    public static func unsafeReason(path: String, expectDirectory: Bool, allowSticky: Bool = false) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return "cannot stat: \(String(cString: strerror(errno)))"
        }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        if expectDirectory && !isDirectory { return "not a folder" }
        if !expectDirectory && (info.st_mode & S_IFMT) != S_IFREG { return "not a regular file" }
        let owner = info.st_uid
        if owner != 0 && owner != geteuid() {
            return "owned by uid \(owner), expected root or this process's uid \(geteuid())"
        }
        let mode = info.st_mode & 0o7777
        if allowSticky && owner == 0 && mode & S_ISVTX != 0 { return nil }
        if mode & (S_IWGRP | S_IWOTH) != 0 {
            return "writable by group or others (mode \(String(mode, radix: 8, uppercase: false).leftPadded(to: 4, with: "0"))); run chmod go-w"
        }
        return nil
    }
}

extension PluginsFolder {
    /// Why a driver file was not accepted before any of its code ran.
    public struct FileProblem: Error, Sendable {
        public var reason: String
    }

    /// Checks a driver file and returns the path to load: the file itself, or the resolved
    /// target of a symbolic link. A link's target and every folder above it, up to the plugins
    /// folder (or up to / for a target outside it), must pass the same ownership and mode
    /// rules as the folder itself: a link must not lead around them.
    public static func checkDriverFile(_ path: String, folder: String?) -> Result<String, FileProblem> {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .failure(FileProblem(reason: "cannot stat: \(String(cString: strerror(errno)))")) }
        guard (info.st_mode & S_IFMT) == S_IFLNK else {
            return unsafeReason(path: path, expectDirectory: false).map { .failure(FileProblem(reason: $0)) } ?? .success(path)
        }
        guard let resolved = realpath(path, nil) else {
            return .failure(FileProblem(reason: "symbolic link that leads nowhere: \(String(cString: strerror(errno)))"))
        }
        let real = String(cString: resolved)
        free(resolved)
        if let reason = unsafeReason(path: real, expectDirectory: false) {
            return .failure(FileProblem(reason: "links to \(real), which is \(reason)"))
        }
        let stop = folder.flatMap { f -> String? in
            guard let r = realpath(f, nil) else { return nil }
            defer { free(r) }
            return String(cString: r)
        }
        var dir = (real as NSString).deletingLastPathComponent
        while !dir.isEmpty && dir != stop {
            if let reason = unsafeReason(path: dir, expectDirectory: true, allowSticky: true) {
                return .failure(FileProblem(reason: "links to \(real), whose folder \(dir) is \(reason)"))
            }
            if dir == "/" { break }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return .success(real)
    }
}
