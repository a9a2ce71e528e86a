using System.ServiceModel.Channels;
using System.Xml;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Relay.Silo.Soap;

namespace Relay.Silo.Tests.Soap;

/// <summary>
/// What <see cref="SoapFaultProcessor"/> does not count as the caller's error. Markup in a text member is recognised by
/// where the exception comes from (an <see cref="XmlReader"/> under SoapCore's parameter deserialization, seen end to
/// end in <see cref="UndeserializableBodyTests"/>), not by its type or message: the same exception from anywhere else
/// is an error of the system, logged and answered <c>Server</c>/503.
/// </summary>
public sealed class SoapFaultProcessorTests
{
    [Fact]
    public async Task An_InvalidOperationException_of_the_service_stays_a_Server_fault_503_and_is_logged()
    {
        var (fault, status, logs) = await ProcessAsync(() => throw new InvalidOperationException("Sequence contains no elements"));

        AssertServerFaultLogged(fault, status, logs);
    }

    [Fact]
    public async Task A_reader_refusing_markup_outside_SoapCores_deserializer_stays_a_Server_fault_503_and_is_logged()
    {
        // The very exception markup in a Payload gives ("The ReadContentAsString method is not supported on node type
        // Element"), thrown by an XmlReader in code of the system instead of while SoapCore reads the parameters: the
        // dictionary reader SoapCore reads with, which throws it where a plain XmlReader throws an XmlException.
        var (fault, status, logs) = await ProcessAsync(() =>
        {
            using var reader = XmlDictionaryReader.CreateDictionaryReader(XmlReader.Create(new StringReader("<Payload><b>x</b></Payload>")));
            reader.MoveToContent();
            _ = reader.ReadElementContentAsString();
        });

        Assert.Contains(logs.Lines, l => l.Contains("System.InvalidOperationException: The ReadContentAsString method is not supported on node type Element", StringComparison.Ordinal));

        AssertServerFaultLogged(fault, status, logs);
    }

    private static void AssertServerFaultLogged(MessageFault fault, int status, CapturedLogs logs)
    {
        Assert.Equal(StatusCodes.Status500InternalServerError, status);
        Assert.True(fault.Code.IsReceiverFault, fault.Reason.ToString());
        Assert.Equal(503, fault.GetDetail<RelayFault>().StatusCode);
        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("[3101]", StringComparison.Ordinal));
    }

    private static async Task<(MessageFault Fault, int Status, CapturedLogs Logs)> ProcessAsync(Action failure)
    {
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var processor = new SoapFaultProcessor(factory.CreateLogger<SoapFaultProcessor>());
        var http = new DefaultHttpContext();
        http.Request.Headers["SOAPAction"] = "\"urn:relay:messaging:v1/IMessagingService/Send\"";
        using var request = Message.CreateMessage(MessageVersion.Soap11, "urn:relay:messaging:v1/IMessagingService/Send");

        using var answer = await processor.ProcessMessage(request, http, _ =>
        {
            failure();
            throw new InvalidOperationException("unreachable: the failure throws");
        });

        Assert.True(answer.IsFault);
        return (MessageFault.CreateFault(answer, int.MaxValue), http.Response.StatusCode, logs);
    }
}
