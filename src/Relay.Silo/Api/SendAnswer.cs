using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Relay.Contracts;

namespace Relay.Silo.Api;

/// <summary>
/// The answer of a send (and of a resubmit) as JSON: the bytes of <c>Results.Json</c> with the silo's JSON options
/// (web defaults, enums as their names, ASP.NET Core's relaxed escaping), written at once into the response by source-generated code. Results.Json
/// serialized through an asynchronous writer with a resolver walking the type's metadata: about 0.5 KB allocated per
/// answer (its state machine, a new <see cref="Utf8JsonWriter"/>, the serializer's stack of frames). The answer is
/// small and already in memory, so nothing is gained by writing it asynchronously.
/// <c>SendAnswerTests</c> holds its bytes to those of the options the rest of the API uses.
/// </summary>
internal sealed class SendAnswer(SendResult result, int statusCode) : IResult
{
    /// <summary>What <c>Results.Json</c> sends.</summary>
    private const string ContentType = "application/json; charset=utf-8";

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = ContentType;
        Write(response.BodyWriter, result);
        return Task.CompletedTask;
    }

    /// <summary>Writes <paramref name="value"/> into <paramref name="output"/> with a writer kept per thread.</summary>
    internal static void Write(IBufferWriter<byte> output, SendResult value)
    {
        var writer = t_writer;
        if (writer is null)
        {
            writer = t_writer = new Utf8JsonWriter(output, new JsonWriterOptions
            {
                // ASP.NET Core's JSON options escape only what JSON requires (the answer is never embedded in a page).
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
                SkipValidation = true,
            });
        }
        else
        {
            writer.Reset(output);
        }

        try
        {
            JsonSerializer.Serialize(writer, value, SendAnswerJson.Default.SendResult);
            writer.Flush();
        }
        finally
        {
            // Let go of the response's writer: the thread keeps only its own.
            writer.Reset(Detached.Instance);
        }
    }

    private sealed class Detached : IBufferWriter<byte>
    {
        public static readonly Detached Instance = new();

        public void Advance(int count) => throw new InvalidOperationException("A detached JSON writer was written to.");

        public Memory<byte> GetMemory(int sizeHint = 0) => throw new InvalidOperationException("A detached JSON writer was written to.");

        public Span<byte> GetSpan(int sizeHint = 0) => throw new InvalidOperationException("A detached JSON writer was written to.");
    }
}

/// <summary>The answer's serializer: the web defaults of ASP.NET Core's JSON options, and enums as their names (JsonStringEnumConverter).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(SendResult))]
internal sealed partial class SendAnswerJson : JsonSerializerContext;
