/// `spot_max_price`: the most a spot launch may pay per hour, as `MaxPrice` of RunInstances.
/// Unset (the default) sends no `MaxPrice`, so EC2 caps at the on-demand price — the same as
/// AWS's own default — and a rising spot market does not fail launches with
/// `SpotMaxPriceTooLow`. A number caps every type; an object caps the types it names.
///
///     SpotMaxPrice(parsing: .object(["p5.48xlarge": .number(40)]))?.cap(for: "p5.48xlarge")  // 40
import DriverSupport
public struct SpotMaxPrice: Sendable, Equatable {
    public var everyType: Double?
    public var byType: [String: Double] = [:]

    public init(everyType: Double? = nil, byType: [String: Double] = [:]) {
        self.everyType = everyType
        self.byType = byType
    }

    /// nil when `value` is neither a positive number nor an object of positive numbers.
    init?(parsing value: JSONValue) {
        switch value {
        case .number(let n) where n > 0:
            everyType = n
        case .object(let object):
            for (type, price) in object {
                guard case .number(let n) = price, n > 0, !type.isEmpty else { return nil }
                byType[type] = n
            }
        default:
            return nil
        }
    }

    /// The cap for `providerType`, nil for none.
    public func cap(for providerType: String) -> Double? { byType[providerType] ?? everyType }
}
