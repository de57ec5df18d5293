import Foundation
import Units

/// Where drivers are loaded from, and the safety checks that come before any `dlopen` (which
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
    public static func resolve(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               executableFolder: String = Self.executableFolder()) -> PluginsFolder {
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
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (target as NSString).deletingLastPathComponent
    }

    /// Driver file names (`libcdd_*.so`) in a folder, sorted; empty when unreadable.
    public static func driverFiles(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasPrefix("libcdd_") && $0.hasSuffix(".so") }.sorted()
    }

    /// Why a folder or file must not be trusted, or nil when it may be loaded from: it must
    /// exist, be owned by root or by this process's user, and not be writable by group or
    /// others (anyone who can write there can run code inside the daemon).
    public static func unsafeReason(path: String, expectDirectory: Bool) -> String? {
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
        if mode & (S_IWGRP | S_IWOTH) != 0 {
            return "writable by group or others (mode \(String(mode, radix: 8, uppercase: false).leftPadded(to: 4, with: "0"))); run chmod go-w"
        }
        return nil
    }
}
