import Foundation

extension ServeCommand {
    /// Where this run's settings come from: the file (or the built-in defaults when there is
    /// none) and the flags that override it.
    var settingOrigins: SettingOrigins {
        let file = config ?? (FileManager.default.fileExists(atPath: Self.defaultPath) ? Self.defaultPath : nil)
        var flags: [String: String] = [:]
        if stateDir != nil { flags["state_dir"] = "--state-dir" }
        if listen != nil { flags["listen"] = "--listen" }
        return SettingOrigins(file: file, flags: flags)
    }
}
