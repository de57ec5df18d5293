import DriverSupport
import GCECore
import Testing

@Suite struct LabelTests {
    @Test func everyTagRoundTripsThroughLabels() {
        for text in ["cloud-dispatch-instance-set", "m5.large-spot", "Prod_1", "", "9lives", "ü/x y", "z__x", "_", "z"] {
            #expect(Labels.decode(Labels.encodeKey(text)) == text)
            #expect(Labels.decode(Labels.encodeValue(text)) == text)
        }
    }

    @Test func encodingsAreValidLabels() {
        for text in ["Prod_1", "9lives", "a.b", "ü"] {
            let key = Labels.encodeKey(text)
            #expect(key.first!.isLowercase && key.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-" })
        }
        #expect(Labels.encodeValue("m5.large") == "m5_2elarge")
        #expect(Labels.encodeKey("9lives") == "z__9lives")
    }

    @Test func tagsTooLongForALabelGoToMetadata() {
        let long = String(repeating: "x", count: 64)
        let (labels, overflow) = Labels.split(["short": "ok", "long": long])
        #expect(labels == ["short": "ok"])
        #expect(overflow == ["long": long])
        #expect(Labels.tags(labels: labels, overflow: overflow) == ["short": "ok", "long": long])
    }

    @Test func foreignLabelsAreReportedAsTheyAre() {
        #expect(Labels.tags(labels: ["goog_x": "a_b"], overflow: [:]) == ["goog_x": "a_b"])
    }
}
