using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Relay.Core.Messages;

namespace Relay.Silo.Tests;

/// <summary>One silo with a destination that always answers 400 and a one-attempt contract: every send dead-letters at once.</summary>
public sealed class MessageIdSilo : SiloFixture
{
    protected override SiloSettings Configure()
    {
        Destination.AnswerAll(new Reply(400, "no"));
        return new SiloSettings
        {
            ["Relay:Contracts:once:MaxAttempts"] = "1",
        }
            .Destination("rejecting", Destination.Url("/reject"), "once");
    }
}

/// <summary>
/// Every id the validator accepts works on every endpoint that names a message in its path: read, resubmit, discard.
/// An id is put in a path as <see cref="Uri.EscapeDataString(string)"/> makes it (a '/' as %2F, a '%' as %25).
/// </summary>
public sealed class MessageIdTests(MessageIdSilo fixture) : IClassFixture<MessageIdSilo>
{
    private static int _unique;

    /// <summary>Pieces an id is made of: the characters a path treats specially, their encodings, and plain text.</summary>
    private static readonly string[] Pieces =
    [
        "/", "//", "%", "%2F", "%2f", "%25", "%252F", "%20", "%3F", "+", " ", ".", "..", "./", "/..", "?", "#", "&", "=", ";", ":",
        "@", "\\", "~", "\"", "'", "<", ">", "[", "]", "{", "}", "|", "^", "`", "!", "$", "(", ")", "*", ",",
        "é", "€", "日本", "😀", "\u00a0", "a", "b", "Z", "0", "9", "-", "_", "order",
    ];

    private static readonly Gen<string> Fragments =
        Gen.Elements(Pieces).ListOf().Select(parts => string.Concat(parts.Take(12)));

    /// <summary>
    /// Ids from <see cref="Fragments"/> around a token unique to the case (a repeated id would answer the existing
    /// state), so that special characters come first, last, and in the middle; kept to those the validator accepts.
    /// </summary>
    private static readonly Arbitrary<string> Ids =
        (from head in Fragments
         from tail in Fragments
         select head + "\u2060" + tail)
        .Where(id => Accepted(id.Replace("\u2060", "u0", StringComparison.Ordinal)))
        .ToArbitrary();

    [Property(MaxTest = 60)]
    public Property Every_id_the_validator_accepts_is_read_resubmitted_and_discarded_by_its_path() =>
        Prop.ForAll(Ids, template =>
        {
            var id = template.Replace("\u2060", "u" + Interlocked.Increment(ref _unique), StringComparison.Ordinal);
            // Off xunit's synchronization context: the property runs synchronously.
            Task.Run(() => AssertWorksEndToEndAsync(id)).GetAwaiter().GetResult();
        });

    [Theory]
    [InlineData("a/b")]
    [InlineData("a%2Fb")]
    [InlineData("a%252Fb")]
    [InlineData("a%2fb")]
    [InlineData("/")]
    [InlineData("%")]
    [InlineData("%2F")]
    [InlineData("100%")]
    [InlineData("a/../b")]
    [InlineData("../x")]
    [InlineData("x/..")]
    [InlineData("./")]
    [InlineData("...")]
    [InlineData("a?b#c")]
    [InlineData("a+b c")]
    [InlineData("back\\slash")]
    [InlineData("é/日本/😀")]
    [InlineData(" leading space")]
    public async Task An_id_with_characters_a_path_treats_specially_works_end_to_end(string id)
    {
        await AssertWorksEndToEndAsync(id);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public async Task An_id_no_path_can_carry_is_refused_at_send_and_not_stored(string id)
    {
        var sentBefore = fixture.Destination.Received.Count;

        using var response = await fixture.Silo.SendAsync(new { id, destination = "rejecting", payload = "x" });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("message id", (string?)problem["title"], StringComparison.OrdinalIgnoreCase);
        Assert.Equal(sentBefore, fixture.Destination.Received.Count);
    }

    private static bool Accepted(string id) =>
        MessageValidator.CheckId(id, 200) is null && !id.StartsWith(MessageValidator.ReservedIdPrefix, StringComparison.Ordinal);

    private async Task AssertWorksEndToEndAsync(string id)
    {
        var silo = fixture.Silo;
        var path = "/messages/" + Uri.EscapeDataString(id);

        var (sent, sentBody) = await silo.SendAndReadAsync(new { id, destination = "rejecting", payload = "x" });
        Assert.True(sent.StatusCode == HttpStatusCode.OK, $"send {id}: {(int)sent.StatusCode} {sentBody.ToJsonString()}");
        Assert.Equal(id, (string?)sentBody["id"]);
        Assert.Equal("DeadLettered", (string?)sentBody["status"]);

        var read = await ReadAsync(path, id, "read");
        Assert.Equal("DeadLettered", (string?)read["status"]);

        using (var resubmit = await silo.Client.PostAsync(path + "/resubmit", null))
        {
            var body = await TestSilo.ReadAsync(resubmit);
            Assert.True(resubmit.IsSuccessStatusCode, $"resubmit {id}: {(int)resubmit.StatusCode} {body.ToJsonString()}");
            Assert.Equal(id, (string?)body["id"]);
        }

        await Eventually.Until(() => ReadAsync(path, id, "read after resubmit"), m => (string?)m["status"] == "DeadLettered",
            what: $"{id} dead-lettered again");

        using (var discard = await silo.Client.PostAsync(path + "/discard", null))
        {
            var body = await TestSilo.ReadAsync(discard);
            Assert.True(discard.IsSuccessStatusCode, $"discard {id}: {(int)discard.StatusCode} {body.ToJsonString()}");
            Assert.Equal(id, (string?)body["id"]);
            Assert.Equal("Discarded", (string?)body["deliveries"]![0]!["status"]);
        }

        var after = await ReadAsync(path, id, "read after discard");
        var actions = after["events"]!.AsArray().Select(e => (string?)e!["action"]).ToList();
        Assert.Equal(["Resubmitted", "Discarded"], actions);
        Assert.Equal(2, (int?)after["attempts"]!.AsArray().Count);
    }

    private async Task<JsonNode> ReadAsync(string path, string id, string what)
    {
        using var response = await fixture.Silo.Client.GetAsync(path);
        var body = await TestSilo.ReadAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what} {id} at {path}: {(int)response.StatusCode} {body.ToJsonString()}");
        Assert.Equal(id, (string?)body["id"]);
        return body;
    }
}
