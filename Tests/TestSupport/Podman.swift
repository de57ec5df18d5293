import Foundation

/// Real podman for the tests that run containers from an image (`support/podman.sh` installs it
/// and imports a busybox image; `make test` names that image in CLOUD_DISPATCH_TEST_PODMAN_IMAGE).
/// Without the variable those tests are skipped; with it, a podman that cannot run fails them.
public enum Podman {
    public static var image: String? {
        let name = ProcessInfo.processInfo.environment["CLOUD_DISPATCH_TEST_PODMAN_IMAGE"] ?? ""
        return name.isEmpty ? nil : name
    }

    public static let path = "/usr/bin/podman"

    /// Names of the containers podman still has (running or stopped) whose name contains `text`.
    public static func containers(named text: String) async -> [String] {
        let listed = try? await Harness.run(path, ["ps", "--all", "--format", "{{.Names}}", "--filter", "name=\(text)"])
        return (listed?.stdout ?? "").split(separator: "\n").map(String.init)
    }

    /// Removes what a failed test left behind, in a task of its own (called from a `defer`,
    /// which cannot wait).
    public static func remove(_ name: String) {
        Task { _ = try? await Harness.run(path, ["rm", "--force", "--time", "0", name]) }
    }
}
