import DriverSupport
import Foundation

/// The RunInstances parameters for one create request in one subnet. Pure, so every shape
/// (count, client token, tags at launch, spot, scratch volume) is unit-tested as is.
///
///     let params = RunInstancesBuilder(config: config).params(for: request, image: "ami-1",
///                      subnet: "subnet-a", keyName: nil, clientToken: "cdd-…")
public struct RunInstancesBuilder: Sendable {
    public var config: EC2Config
    /// The scratch volume's device (the reference driver's choice; Debian and Ubuntu AMIs
    /// expose it as nvme1n1 or xvdt).
    public static let scratchDevice = "/dev/xvdt"

    public init(config: EC2Config) { self.config = config }

    /// `member`: the driver's own tag naming the instance set (after the request's tags).
    public func params(for request: CreateRequest, image: String, subnet: String?, keyName: String?,
                       clientToken: String?, member: (key: String, value: String)? = nil) -> QueryParams {
        var p = QueryParams(action: "RunInstances")
        p.set("ImageId", image)
        p.set("InstanceType", request.instanceType.providerType)
        // All or nothing by default: a shortage fails the call and the host moves on to the
        // next type. With partial_launch, MinCount 1 lets EC2 launch fewer (the ABI allows it).
        p.set("MinCount", config.partialLaunch ? "1" : String(request.count))
        p.set("MaxCount", String(request.count))
        if let clientToken { p.set("ClientToken", clientToken) }
        if let subnet { p.set("SubnetId", subnet) }
        p.list("SecurityGroupId", config.securityGroupIDs)
        if let keyName { p.set("KeyName", keyName) }
        if let script = request.initScript, !script.isEmpty {
            p.set("UserData", Data(script.utf8).base64EncodedString())
        }
        if let profile = config.iamInstanceProfile {
            p.set(profile.hasPrefix("arn:") ? "IamInstanceProfile.Arn" : "IamInstanceProfile.Name", profile)
        }
        p.set("InstanceInitiatedShutdownBehavior", "terminate")
        p.set("MetadataOptions.HttpTokens", "required")  // IMDSv2 only on the workers
        p.set("MetadataOptions.HttpEndpoint", "enabled")
        if let added = request.instanceType.addedScratch, added > 0 {
            let gib = (added + (1 << 30) - 1) >> 30
            p.set("BlockDeviceMapping.1.DeviceName", Self.scratchDevice)
            p.set("BlockDeviceMapping.1.Ebs.VolumeSize", String(gib))
            p.set("BlockDeviceMapping.1.Ebs.VolumeType", config.ebsVolumeType)
            p.set("BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true")
        }
        if request.instanceType.preemptible {
            p.set("InstanceMarketOptions.MarketType", "spot")
            p.set("InstanceMarketOptions.SpotOptions.SpotInstanceType", "one-time")
            p.set("InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior", "terminate")
            // No MaxPrice unless configured: EC2 then caps at the on-demand price, and launches
            // keep working when the spot market rises above what the type usually costs.
            if let cap = config.spotMaxPrice.cap(for: request.instanceType.providerType) {
                p.set("InstanceMarketOptions.SpotOptions.MaxPrice", Self.price(cap))
            }
        }
        // Tags at launch, on the instance and its volumes: never an untagged moment.
        for (i, resource) in ["instance", "volume"].enumerated() {
            p.set("TagSpecification.\(i + 1).ResourceType", resource)
            p.tags("TagSpecification.\(i + 1).Tag", request.tags)
            if let member {
                p.set("TagSpecification.\(i + 1).Tag.\(request.tags.count + 1).Key", member.key)
                p.set("TagSpecification.\(i + 1).Tag.\(request.tags.count + 1).Value", member.value)
            }
        }
        return p
    }

    /// A price as EC2 takes it: plain decimal, at most 6 places, no exponent.
    static func price(_ value: Double) -> String {
        var s = String(format: "%.6f", value)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// The ClientToken for an idempotency token in one subnet. The set id keeps two
    /// dispatchers' tokens apart in one account; the subnet is part of it because EC2 refuses
    /// a token reused with different parameters (IdempotentParameterMismatch).
    public static func clientToken(setID: String, token: String, subnet: String?) -> String {
        "cdd-" + String(SHA256.hex(Array("\(setID)\n\(token)\n\(subnet ?? "")".utf8)).prefix(40))
    }
}
