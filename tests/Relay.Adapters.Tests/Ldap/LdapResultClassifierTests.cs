using Relay.Adapters.Ldap;

namespace Relay.Adapters.Tests.Ldap;

public class LdapResultClassifierTests
{
    [Theory]
    [InlineData(81, "serverDown")]
    [InlineData(91, "connectError")]
    [InlineData(51, "busy")]
    [InlineData(52, "unavailable")]
    [InlineData(85, "timeout")]
    [InlineData(3, "timeLimitExceeded")]
    public void Server_down_busy_unavailable_and_timeouts_are_retryable(int code, string name)
    {
        Assert.Equal(AttemptOutcome.RetryableFailure, LdapResultClassifier.ClassifyFailure(code));
        Assert.Equal(name, LdapResultClassifier.Name(code));
    }

    [Theory]
    [InlineData(32, "noSuchObject")]
    [InlineData(19, "constraintViolation")]
    [InlineData(68, "entryAlreadyExists")]
    [InlineData(65, "objectClassViolation")]
    [InlineData(49, "invalidCredentials")]
    [InlineData(50, "insufficientAccessRights")]
    [InlineData(53, "unwillingToPerform")]
    [InlineData(21, "invalidAttributeSyntax")]
    [InlineData(34, "invalidDNSyntax")]
    [InlineData(16, "noSuchAttribute")]
    [InlineData(20, "attributeOrValueExists")]
    [InlineData(66, "notAllowedOnNonLeaf")]
    [InlineData(80, "other")]
    public void Other_result_codes_are_final(int code, string name)
    {
        Assert.Equal(AttemptOutcome.NonRetryableFailure, LdapResultClassifier.ClassifyFailure(code));
        Assert.Equal(name, LdapResultClassifier.Name(code));
    }
}
