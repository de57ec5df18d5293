import Foundation
import Queue
import Testing

@Suite struct ContainerCodecTests {
    /// A batch is encoded in parts on several cores; the docs must come back in the batch's
    /// order, each the one the container encodes to alone, and decode to it.
    @Test func aBatchEncodesInOrderAsEachWouldAlone() async throws {
        let now = Timestamp.now()
        let containers = (0..<1_000).map { i in
            ContainerFactory.make(ContainerSpec(command: ["echo", "\(i)"], priority: i % 7), now: now.addingTimeInterval(Double(i)))
        }
        let docs = await ContainerCodec.encode(containers)
        #expect(docs == containers.map(ContainerCodec.encode))
        #expect(try docs.map(ContainerCodec.decode) == containers)
        #expect(await ContainerCodec.encode(Array(containers.prefix(3))) == containers.prefix(3).map(ContainerCodec.encode))
    }
}
