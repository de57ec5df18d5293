/// ARM error codes to ABI error classes: the one table the host's policy depends on.
/// 429 is always throttling; otherwise the code decides, and the HTTP status only for codes
/// the table does not know.
///
///     ErrorMapping.classify(code: "ZonalAllocationFailed", message: "", httpStatus: 200)  // .capacityType
import DriverSupport
public enum ErrorMapping {
    static let byCode: [String: ErrorClass] = [
        "QuotaExceeded": .quota,
        "OperationNotAllowed": .invalid,  // unless its message speaks of a quota (below)
        "PublicIPCountLimitReached": .quota,
        "NetworkInterfaceCountLimitReached": .quota,
        "SkuNotAvailable": .capacityType,
        "AllocationFailed": .capacityType,
        "ZonalAllocationFailed": .capacityType,
        "OverconstrainedAllocationRequest": .capacityType,
        "OverconstrainedZonalAllocationRequest": .capacityType,
        "SpotMaxPriceTooLow": .capacityType,  // not a documented ARM code; kept in case
        "TooManyRequests": .rateLimit,
        "SubscriptionRequestsThrottled": .rateLimit,
        "AuthenticationFailed": .auth,
        "AuthorizationFailed": .auth,
        "LinkedAuthorizationFailed": .auth,
        "InvalidAuthenticationToken": .auth,
        "InvalidAuthenticationTokenTenant": .auth,
        "ExpiredAuthenticationToken": .auth,
        "SubscriptionNotFound": .auth,
        "DisallowedProvider": .auth,
        "RequestDisallowedByPolicy": .auth,
        "ResourceNotFound": .notFound,
        "NotFound": .notFound,
        "ResourceGroupNotFound": .invalid,  // the configured group: a config problem, not a gone VM
        "InvalidParameter": .invalid,
        "InvalidRequestContent": .invalid,
        "InvalidRequestFormat": .invalid,
        "BadRequest": .invalid,
        "ImageNotFound": .invalid,
        "PlatformImageNotFound": .invalid,
        "GalleryImageNotFound": .invalid,
        "InvalidResourceReference": .invalid,
        "PropertyChangeNotAllowed": .invalid,
        "MissingApiVersionParameter": .internal,
        "NoRegisteredProviderFound": .internal,
        "InvalidApiVersionParameter": .internal,
        "Conflict": .transient,
        "AnotherOperationInProgress": .transient,
        "OperationPreempted": .transient,
        "RetryableError": .transient,
        "InternalServerError": .transient,
        "InternalOperationError": .transient,
        "ServiceUnavailable": .transient,
        "GatewayTimeout": .transient,
    ]

    public static func classify(code: String, message: String, httpStatus: Int) -> ErrorClass {
        if httpStatus == 429 { return .rateLimit }
        if code == "OperationNotAllowed" || code == "QuotaExceeded" {
            return isQuotaText(message) || code == "QuotaExceeded" ? .quota : .invalid
        }
        if let known = byCode[code] { return known }
        switch httpStatus {
        case 401, 403: return .auth
        case 404: return .notFound
        case 400...499: return .invalid
        case 500...599: return .transient
        default: return .internal
        }
    }

    /// ARM words quota refusals as `OperationNotAllowed` with the limit in the message
    /// ("Operation could not be completed as it results in exceeding approved standardDSv3Family Cores quota").
    static func isQuotaText(_ message: String) -> Bool {
        let m = message.lowercased()
        return m.contains("quota") || m.contains("exceeding approved") || m.contains("limit")
    }
}
