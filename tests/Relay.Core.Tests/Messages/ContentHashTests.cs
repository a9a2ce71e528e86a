using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Xunit;
using Relay.Contracts;
using Relay.Core.Messages;

namespace Relay.Core.Tests.Messages;

/// <summary>
/// The content hash is stored with every message and compared with a resend's (same id, same content: the stored
/// answer; other content: 409): the bytes it hashes must never change, or every message stored before an upgrade would
/// answer 409 to its own resend.
/// </summary>
public sealed class ContentHashTests
{
    [Fact]
    public void The_hash_of_a_known_message_is_the_one_stored_by_earlier_releases()
    {
        var request = new SendRequest
        {
            Destination = "billing",
            Contract = "fast",
            Notify = "app-callbacks",
            OrderingKey = "customer-42",
            CorrelationId = "req-9",
        };
        var headers = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["X-Tenant"] = "acme", ["X-Ünïcode"] = "çé" };

        var hash = MessageValidator.ComputeHash(request, "{\"amount\": 200}"u8.ToArray(), "application/json", headers);

        Assert.Equal(KnownHash, hash);
    }

    [Property(MaxTest = 500)]
    public bool Any_content_hashes_as_the_first_release_hashed_it(
        NonNull<string> destination, string? topic, byte[] payload, NonNull<string> contentType, string? contract,
        string? notify, string? orderingKey, string? correlationId, Dictionary<NonNull<string>, NonNull<string>> headers)
    {
        var request = new SendRequest
        {
            Destination = destination.Get,
            Topic = topic,
            Contract = contract,
            Notify = notify,
            OrderingKey = orderingKey,
            CorrelationId = correlationId,
        };
        var sorted = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            sorted[name.Get] = value.Get;
        }

        return MessageValidator.ComputeHash(request, payload, contentType.Get, sorted)
            == FirstRelease(request, payload, contentType.Get, sorted);
    }

    [Fact]
    public void Long_fields_hash_as_short_ones_do()
    {
        var request = new SendRequest { Destination = new string('d', 300), CorrelationId = new string('é', 5000) };
        var headers = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase) { [new string('h', 400)] = new string('v', 8192) };

        Assert.Equal(FirstRelease(request, [1, 2, 3], "text/plain", headers), MessageValidator.ComputeHash(request, [1, 2, 3], "text/plain", headers));
    }

    private const string KnownHash = "238DBDA2585BB835886AD4DAEFA26EE2BA465904AC19B58DBDA99624577A6E76";

    /// <summary>The hash as the first release computed it, kept as written then: the reference the current code must match.</summary>
    private static string FirstRelease(SendRequest request, byte[] payload, string contentType, SortedDictionary<string, string> headers)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Field(string? value)
        {
            var bytes = value is null ? [] : Encoding.UTF8.GetBytes(value);
            hash.AppendData(BitConverter.GetBytes(value is null ? -1 : bytes.Length));
            hash.AppendData(bytes);
        }

        Field(request.Destination);
        Field(request.Topic);
        hash.AppendData(BitConverter.GetBytes(payload.Length));
        hash.AppendData(payload);
        Field(contentType);
        Field(request.Contract);
        Field(request.Notify);
        Field(request.OrderingKey);
        Field(request.CorrelationId);
        hash.AppendData(BitConverter.GetBytes(headers.Count));
        foreach (var (name, value) in headers)
        {
            Field(name.ToLowerInvariant());
            Field(value);
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
