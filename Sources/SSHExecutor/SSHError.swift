/// Why a command on a worker did not run to completion. Every case names the step that failed,
/// so a log line says whether the worker is down, slow, or not who it claims to be.
public enum SSHError: Error, Sendable, Equatable, CustomStringConvertible {
    /// TCP connect failed or timed out (booting, gone, or firewalled).
    case connect(String)
    /// The SSH handshake or a later protocol step failed or timed out.
    case session(String)
    /// The worker refused our key.
    case authentication(String)
    /// The worker's host key does not match what we know of it (driver report, pin or secret).
    case identity(String)
    /// The command did not finish within its deadline.
    case timeout(String)
    /// In back-off after earlier failures: not tried for another `seconds`.
    case backingOff(seconds: Double)

    public var description: String {
        switch self {
        case .connect(let m): "connect: \(m)"
        case .session(let m): "ssh: \(m)"
        case .authentication(let m): "authentication: \(m)"
        case .identity(let m): "host identity: \(m)"
        case .timeout(let m): "timed out: \(m)"
        case .backingOff(let seconds): "not tried: backing off after failures for another \(Int(seconds.rounded(.up))) s"
        }
    }
}
