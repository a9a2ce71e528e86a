using Relay.Contracts;

namespace Relay.Adapters.Ldap;

/// <summary>
/// Whether an LDAP result code that stopped an operation is worth another attempt. Retryable: the server is down
/// or cannot be reached (81 serverDown, 91 connectError), it is busy or unavailable (51 busy, 52 unavailable), or
/// time ran out (3 timeLimitExceeded, 85 timeout). Every other code is final: the same request would meet the same
/// answer (32 noSuchObject, 19 constraintViolation, 68 entryAlreadyExists, 49 invalidCredentials,
/// 50 insufficientAccessRights, 65 objectClassViolation, 53 unwillingToPerform, ...).
/// </summary>
public static class LdapResultClassifier
{
    public static AttemptOutcome ClassifyFailure(int resultCode) => resultCode switch
    {
        3 or 51 or 52 or 81 or 85 or 91 => AttemptOutcome.RetryableFailure,
        _ => AttemptOutcome.NonRetryableFailure,
    };

    /// <summary>The code's name as RFC 4511 (and, from 81 on, the OpenLDAP client library) spells it.</summary>
    public static string Name(int resultCode) => resultCode switch
    {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        14 => "saslBindInProgress",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        18 => "inappropriateMatching",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        33 => "aliasProblem",
        34 => "invalidDNSyntax",
        36 => "aliasDereferencingProblem",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        54 => "loopDetect",
        64 => "namingViolation",
        65 => "objectClassViolation",
        66 => "notAllowedOnNonLeaf",
        67 => "notAllowedOnRDN",
        68 => "entryAlreadyExists",
        69 => "objectClassModsProhibited",
        71 => "affectsMultipleDSAs",
        80 => "other",
        81 => "serverDown",
        82 => "localError",
        83 => "encodingError",
        84 => "decodingError",
        85 => "timeout",
        86 => "authUnknown",
        87 => "filterError",
        88 => "userCancelled",
        89 => "paramError",
        90 => "noMemory",
        91 => "connectError",
        _ => "result",
    };
}
