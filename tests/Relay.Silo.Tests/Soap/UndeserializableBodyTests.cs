namespace Relay.Silo.Tests.Soap;

/// <summary>
/// A well-formed envelope whose operation's parameters do not deserialize (markup where the contract has a string) is
/// the caller's mistake: a <c>Client</c> fault with status 400 saying the body does not match the contract, nothing
/// stored, nothing sent, nothing logged as an error. Sending it again can never succeed, so it must not be answered as
/// <c>Server</c>/503 "try again".
/// </summary>
public sealed class UndeserializableBodyTests(FrontDoorFixture relay) : IClassFixture<FrontDoorFixture>
{
    private const string Arrays = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";

    [Theory]
    [InlineData("payload", "<Destination>billing</Destination><Payload><b>x</b></Payload>")]
    [InlineData("destination", "<Destination><b>billing</b></Destination><Payload>x</Payload>")]
    [InlineData("header-value", "<Destination>billing</Destination><Payload>x</Payload>"
        + "<Headers xmlns:a=\"" + Arrays + "\"><a:KeyValueOfstringstring><a:Key>X-Tenant</a:Key><a:Value><b>acme</b></a:Value></a:KeyValueOfstringstring></Headers>")]
    public async Task A_Send_with_elements_inside_a_string_member_is_a_Client_fault_400_and_nothing_is_stored(string member, string content)
    {
        var id = "markup-in-" + member;
        var envelope = $"<s:Envelope xmlns:s=\"{RawSoap.Envelope11}\"><s:Body><Send xmlns=\"{RawSoap.Messaging}\"><request><Id>{id}</Id>{content}</request></Send></s:Body></s:Envelope>";
        var before = relay.Logs.Lines.Count;

        using var response = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(envelope));

        await AssertContractMismatchFault(response, before);
        Assert.Null(await relay.Silo.GetMessageAsync(id));
        Assert.DoesNotContain(relay.Destination.Received, r => r.Header("Idempotency-Key") == id);
        await AssertGetStatusAnswersNotFound(id);
    }

    [Fact]
    public async Task A_GetStatus_with_elements_inside_its_id_is_a_Client_fault_400()
    {
        var envelope = $"<s:Envelope xmlns:s=\"{RawSoap.Envelope11}\"><s:Body><GetStatus xmlns=\"{RawSoap.Messaging}\"><id><b>markup-in-id</b></id></GetStatus></s:Body></s:Envelope>";
        var before = relay.Logs.Lines.Count;

        using var response = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(envelope), RawSoap.Messaging + "/IMessagingService/GetStatus");

        await AssertContractMismatchFault(response, before);
    }

    private async Task AssertContractMismatchFault(HttpResponseMessage response, int logLinesBefore)
    {
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var (code, reason, status, text) = await RawSoap.ReadFaultAsync(response);
        var errors = relay.Logs.Lines.Skip(logLinesBefore)
            .Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal))
            .ToList();
        // On failure, the error logged names the exception that was not recognised as the caller's.
        Assert.True(code == "s:Client", $"{text}\n{string.Join("\n", errors)}");
        Assert.Equal(400, status);
        Assert.Contains("The body does not match the operation's contract.", reason, StringComparison.Ordinal);
        Assert.Contains("holds child elements", reason, StringComparison.Ordinal);
        Assert.Empty(errors);
    }

    private async Task AssertGetStatusAnswersNotFound(string id)
    {
        var envelope = $"<s:Envelope xmlns:s=\"{RawSoap.Envelope11}\"><s:Body><GetStatus xmlns=\"{RawSoap.Messaging}\"><id>{id}</id></GetStatus></s:Body></s:Envelope>";
        using var response = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(envelope), RawSoap.Messaging + "/IMessagingService/GetStatus");
        var (code, _, status, _) = await RawSoap.ReadFaultAsync(response);
        Assert.Equal("s:Client", code);
        Assert.Equal(404, status);
    }
}
