import Foundation

/// What a container needs from the instance it runs on.
public struct RuntimeConstraints: Codable, Sendable, Hashable {
    public var vcpus: Int
    /// Bytes.
    public var ram: Int64
    /// Bytes of local disk.
    public var scratch: Int64
    public var gpu: GPURequirement

    public init(vcpus: Int = 1, ram: Int64 = 256 << 20, scratch: Int64 = 0, gpu: GPURequirement = GPURequirement()) {
        self.vcpus = vcpus
        self.ram = ram
        self.scratch = scratch
        self.gpu = gpu
    }
}
