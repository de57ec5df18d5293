import GCECore
import Testing

@Suite struct LabelTests {
    @Test func roundTrip() {
        for text in ["cloud-dispatch-instance-set", "m5.large-spot", "Prod_1", "", "9lives", "ü/x y", "z__x", "_"] {
            #expect(Labels.decode(Labels.encodeKey(text)) == text)
            #expect(Labels.decode(Labels.encodeValue(text)) == text)
        }
    }
}
