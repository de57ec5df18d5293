/// The vCPU quota an instance type counts against: EC2 keeps one On-Demand quota per family
/// group (standard A/C/D/H/I/M/R/T/Z, F, G and VT, Inf, P, X, DL, Trn, HPC, high-memory U)
/// and a separate Spot quota per group. The family is the type's lowercase letter prefix;
/// the operator's `quota_groups` (prefix → group, longest prefix wins) override the table.
///
///     QuotaGroups.group(for: "m5.large", preemptible: true)   // "standard-spot"
///     QuotaGroups.group(for: "vt1.3xlarge", preemptible: false) // "g"
import DriverSupport
public enum QuotaGroups {
    static let defaults: [String: String] = [
        "a": "standard", "c": "standard", "d": "standard", "h": "standard", "i": "standard", "m": "standard",
        "r": "standard", "t": "standard", "z": "standard",
        "f": "f", "g": "g", "vt": "g", "inf": "inf", "p": "p", "x": "x", "dl": "dl", "trn": "trn", "hpc": "hpc",
        "u": "u", "mac": "mac",
    ]

    public static func group(for providerType: String, preemptible: Bool, overrides: [String: String] = [:]) -> String {
        let type = providerType.lowercased()
        let family = String(type.prefix { $0.isLetter })
        let configured = overrides.filter { type.hasPrefix($0.key.lowercased()) }.max { $0.key.count < $1.key.count }?.value
        let group = configured ?? defaults[family] ?? (family.isEmpty ? type : family)
        return preemptible ? group + "-spot" : group
    }
}
