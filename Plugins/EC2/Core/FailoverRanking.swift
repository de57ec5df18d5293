/// Which error a create reports after every subnet failed: the one that tells the host the
/// most about what to do next. A shortage (capacity, then quota) steers the host to another
/// type or family, so it must not be hidden behind a subnet that is merely misconfigured.
/// Ties go to the subnet tried first. The order is documented in docs/drivers/ec2.md.
///
///     FailoverRanking.mostMeaningful([badSubnet, noCapacity])  // noCapacity
import DriverSupport
public enum FailoverRanking {
    /// Higher is more meaningful.
    static func rank(_ errorClass: ErrorClass) -> Int {
        switch errorClass {
        case .capacityGlobal, .capacityFamily, .capacityType: 7
        case .quota: 6
        case .rateLimit: 5
        case .transient: 4
        case .auth: 3
        case .unsupported: 2
        case .notFound, .invalid: 1
        case .internal: 0
        }
    }

    /// The highest-ranked of `errors` (nil when empty).
    public static func mostMeaningful(_ errors: [DriverError]) -> DriverError? {
        errors.enumerated().max { a, b in
            let (ra, rb) = (rank(a.element.errorClass), rank(b.element.errorClass))
            return ra != rb ? ra < rb : a.offset > b.offset
        }?.element
    }
}
