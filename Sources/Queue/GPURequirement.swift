import Foundation

/// GPUs a container needs.
public struct GPURequirement: Codable, Sendable, Hashable {
    public var count: Int
    /// "cuda" or "rocm"; empty when count is 0.
    public var stack: String
    /// Bytes of device memory per GPU, at least.
    public var vram: Int64

    public init(count: Int = 0, stack: String = "", vram: Int64 = 0) {
        self.count = count
        self.stack = stack
        self.vram = vram
    }
}
