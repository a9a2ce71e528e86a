using System.ServiceModel.Channels;
using System.Xml;
using System.Xml.Linq;
using Relay.Core.Messages;
using Relay.Silo.Messaging;
using Relay.Silo.Soap;

namespace Relay.Silo.Tests.Soap;

/// <summary>How the front door's errors become SOAP 1.1 faults.</summary>
public sealed class SoapFaultsTests
{
    private static XElement Written(RelayError error)
    {
        using var buffer = new MemoryStream();
        using (var message = SoapFaults.ToMessage(SoapFaults.From(error), MessageVersion.Soap11))
        using (var writer = XmlDictionaryWriter.CreateTextWriter(buffer, Encoding.UTF8, ownsStream: false))
        {
            message.WriteMessage(writer);
        }

        return XDocument.Parse(Encoding.UTF8.GetString(buffer.ToArray())).Root!;
    }

    [Fact]
    public void An_error_of_the_caller_is_a_Client_fault_with_title_detail_and_status()
    {
        var envelope = Written(RelayError.BadRequest("Unknown destination 'biling'.", "Known: billing."));

        Assert.Null(envelope.Element(XName.Get("Header", RawSoap.Envelope11)));
        var fault = envelope.Descendants(XName.Get("Fault", RawSoap.Envelope11)).Single();
        Assert.Equal("s:Client", fault.Element("faultcode")!.Value);
        Assert.Equal("Unknown destination 'biling'. Known: billing.", fault.Element("faultstring")!.Value);
        var detail = fault.Element("detail")!.Element(XName.Get("RelayFault", RawSoap.Messaging))!;
        Assert.Equal("400", detail.Element(XName.Get("StatusCode", RawSoap.Messaging))!.Value);
        Assert.Equal("Known: billing.", detail.Element(XName.Get("Detail", RawSoap.Messaging))!.Value);
    }

    [Fact]
    public void Storage_or_cluster_unavailable_is_a_Server_fault_saying_a_retry_is_safe()
    {
        var exception = SoapFaults.From(MessageService.Unavailable);
        var fault = Written(MessageService.Unavailable).Descendants(XName.Get("Fault", RawSoap.Envelope11)).Single();

        Assert.True(exception.Code.IsReceiverFault);
        Assert.Equal(503, exception.Detail.StatusCode);
        Assert.Equal("s:Server", fault.Element("faultcode")!.Value);
        Assert.Contains("never stored twice", fault.Element("faultstring")!.Value, StringComparison.Ordinal);
    }
}
