/// EC2 error codes to ABI error classes: the one table the host's policy depends on.
/// The class follows the `<Code>` first (EC2 answers some capacity errors with 5xx and some
/// limits with 4xx); the HTTP status decides only for codes the table does not know.
///
///     ErrorMapping.classify(code: "VcpuLimitExceeded", httpStatus: 400)  // .capacityFamily
import DriverSupport
public enum ErrorMapping {
    /// Exact codes.
    static let byCode: [String: ErrorClass] = [
        "InsufficientInstanceCapacity": .capacityType,
        "InsufficientHostCapacity": .capacityType,
        "InsufficientReservedInstanceCapacity": .capacityType,
        "InsufficientVolumeCapacity": .capacityType,
        "InsufficientCapacity": .capacityType,
        "SpotMaxPriceTooLow": .capacityType,
        "VcpuLimitExceeded": .capacityFamily,
        "InstanceLimitExceeded": .quota,
        "MaxSpotInstanceCountExceeded": .quota,
        "InsufficientAddressCapacity": .quota,
        "InsufficientFreeAddressesInSubnet": .quota,
        "AddressLimitExceeded": .quota,
        "VolumeLimitExceeded": .quota,
        "RequestLimitExceeded": .rateLimit,
        "Throttling": .rateLimit,
        "ThrottlingException": .rateLimit,
        "EC2ThrottledException": .rateLimit,
        "RequestThrottled": .rateLimit,
        "AuthFailure": .auth,
        "UnauthorizedOperation": .auth,
        "SignatureDoesNotMatch": .auth,
        "IncompleteSignature": .auth,
        "InvalidClientTokenId": .auth,
        "MissingAuthenticationToken": .auth,
        "InvalidSecurity": .auth,
        "ExpiredToken": .auth,
        "RequestExpired": .transient,
        "RequestTimeTooSkewed": .transient,
        "RequestInTheFuture": .transient,
        "InvalidIdentityToken": .auth,
        "IDPRejectedClaim": .auth,
        "ExpiredTokenException": .auth,
        "IDPCommunicationError": .transient,
        "OptInRequired": .auth,
        "Blocked": .auth,
        "PendingVerification": .auth,
        "InvalidParameterValue": .invalid,
        "InvalidParameter": .invalid,
        "InvalidParameterCombination": .invalid,
        "MissingParameter": .invalid,
        "UnknownParameter": .invalid,
        "InvalidInstanceType": .invalid,
        "InvalidUserData.Malformed": .invalid,
        "InvalidBlockDeviceMapping": .invalid,
        "IdempotentParameterMismatch": .invalid,
        "Unsupported": .unsupported,
        "UnsupportedOperation": .unsupported,
        "InternalError": .transient,
        "InternalFailure": .transient,
        "ServiceUnavailable": .transient,
        "Unavailable": .transient,
    ]

    /// Code families, matched by prefix (`InvalidAMIID.NotFound`, `InvalidKeyPair.Duplicate` …).
    static let byPrefix: [(String, ErrorClass)] = [
        ("InvalidInstanceID.", .notFound),
        ("InvalidAMIID.", .invalid),
        ("InvalidKeyPair.", .invalid),
        ("InvalidSubnetID.", .invalid),
        ("InvalidGroup.", .invalid),
        ("InvalidSecurityGroupID.", .invalid),
        ("InvalidInstanceType.", .invalid),
        ("InvalidIamInstanceProfile.", .invalid),
        ("InvalidParameterValue.", .invalid),
    ]

    public static func classify(code: String, httpStatus: Int) -> ErrorClass {
        if let known = byCode[code] { return known }
        if let match = byPrefix.first(where: { code.hasPrefix($0.0) }) { return match.1 }
        switch httpStatus {
        case 503, 429: return .rateLimit
        case 401, 403: return .auth
        case 500...599: return .transient
        case 400...499: return .invalid
        default: return .internal
        }
    }

    /// Errors that concern one subnet (its zone's capacity, its addresses, the subnet
    /// itself): create tries the next configured subnet before giving up.
    public static func isSubnetSpecific(_ code: String) -> Bool {
        code.contains("Subnet") || ["InsufficientInstanceCapacity", "InsufficientVolumeCapacity", "Unsupported",
                                    "InsufficientFreeAddressesInSubnet", "InsufficientAddressCapacity"].contains(code)
    }
}
