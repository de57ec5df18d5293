import JSON

// What the host fills in for the loopback driver, its embedded default: the driver's state lives
// under state_dir, and its "instances" take any shape, so its catalogue is the configured types.
// Filled in member by member, so a `driver.config` that gives only `state_dir` keeps the types
// (it used to replace them all, and every create failed with `unknown type "local-small"`).
extension Configuration {
    /// The driver's config as the instance set gets it: as given; for the loopback driver, with
    /// `state_dir` (`<state_dir>/loopback`) and `instance_types` (the configured types) when absent.
    public var effectiveDriverConfig: JSONValue {
        guard driver.name == "loopback" else { return driver.config ?? .object([:]) }
        var members: [String: JSONValue] = [:]
        if case .object(let given)? = driver.config { members = given }
        if members["state_dir"] == nil { members["state_dir"] = .string(stateDir + "/loopback") }
        if members["instance_types"] == nil { members["instance_types"] = .array(loopbackCatalogue) }
        return .object(members)
    }

    /// The configured types as a loopback catalogue, one entry per provider type.
    private var loopbackCatalogue: [JSONValue] {
        var seen = Set<String>()
        return instanceTypes.compactMap { t in
            guard seen.insert(t.providerType).inserted else { return nil }
            return .object([
                "provider_type": .string(t.providerType), "vcpus": .integer(Int64(t.vcpus)), "ram": .integer(t.ram),
                "scratch": .integer(t.scratch), "price": .number(t.price),
            ])
        }
    }
}

extension ConfigReader {
    /// A relative loopback `state_dir` is relative to the file's folder, like every path of the file.
    func resolvingLoopbackPaths(_ config: JSONValue, driver: String) -> JSONValue {
        guard driver == "loopback", case .object(var members) = config, let dir = string(members["state_dir"]) else { return config }
        members["state_dir"] = .string(resolve(dir))
        return .object(members)
    }
}
