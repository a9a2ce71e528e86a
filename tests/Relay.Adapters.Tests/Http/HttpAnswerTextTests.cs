using Relay.Adapters.Http;

namespace Relay.Adapters.Tests.Http;

/// <summary>What an HTTP destination answers reaches the attempt's result as storable text, whatever its bytes.</summary>
public sealed class HttpAnswerTextTests
{
    private static HttpAdapter Adapter() =>
        new(Options.Create(new HttpAdapterOptions()), TimeProvider.System, TestMessages.Logger<HttpAdapter>(new CapturedLogs()));

    private static ScriptedServer Answering(byte[] head, byte[] body) => ScriptedServer.Start(async (c, stop) =>
    {
        await c.ReadHttpRequestAsync(stop);
        await c.SendAsync([.. head, .. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n"), .. body], stop);
    });

    [Fact]
    public async Task A_body_with_NUL_and_bytes_that_are_not_UTF8_is_escaped_and_everything_else_kept()
    {
        byte[] body = [.. "{\"a\":\"é\\n\"}"u8, 0, 0xFF, 0xC3, .. "C:\\x"u8];
        await using var server = Answering("HTTP/1.1 503 Down\r\n"u8.ToArray(), body);

        var result = await Adapter().SendAsync(TestMessages.Outbound("nul-1", "x"),
            new() { Protocol = "Http", Address = $"http://127.0.0.1:{server.Port}/in" }, TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal(503, result.StatusCode);
        Assert.Equal("{\"a\":\"é\\n\"}\\x00\\xFF\\xC3C:\\x5Cx", result.Body);
        Assert.Equal(body, Relay.Core.Delivery.ResponseText.ToBytes(result.Body!));
    }

    [Fact]
    public async Task Header_values_and_the_reason_phrase_read_as_UTF8_with_invalid_bytes_escaped()
    {
        byte[] head = [.. "HTTP/1.1 500 Kaputt "u8, 0xFF, .. "\r\nLocation: /r\u00e9sum\u00e9/"u8, 0xFE, .. "\r\nContent-Type: text/plain\r\n"u8];
        await using var server = Answering(head, "no"u8.ToArray());

        var result = await Adapter().SendAsync(TestMessages.Outbound("header-1", "x"),
            new() { Protocol = "Http", Address = $"http://127.0.0.1:{server.Port}/in" }, TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal("500 Kaputt \\xFF", result.Error);
        Assert.Equal("/résumé/\\xFE", result.Headers!["Location"]);
        Assert.Equal("no", result.Body);
    }
}
