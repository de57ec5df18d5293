/// The shell script an instance runs at first boot. It writes the instance secret where the
/// SSH executor reads it back (under the instance root: `$CDD_INSTANCE_ROOT` when the driver
/// sets one, as loopback does, else /var/lib/cloud-dispatch), so the host can tell the machine
/// it reached is the one the cloud made before it trusts that machine's host key.
public enum InitScript {
    /// The instance root on a worker, as a shell expression.
    public static let rootExpression = "\"${CDD_INSTANCE_ROOT:-/var/lib/cloud-dispatch}\""

    public static func make(secret: String, extra: String?) -> String {
        var lines = [
            "#!/bin/sh",
            "# cloud-dispatch: the instance secret, readable by root only",
            "root=\(rootExpression)",
            "umask 0077",
            "mkdir -p \"$root\"",
            "printf '%s' '\(secret)' > \"$root/instance-secret.tmp\" && mv -f \"$root/instance-secret.tmp\" \"$root/instance-secret\"",
        ]
        if let extra, !extra.isEmpty { lines.append(extra) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// 40 hex digits from the system's random generator.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<20).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 15, radix: 16)
        }.joined()
    }
}
