using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Text;
using System.Xml;
using Relay.Contracts;
using Relay.Core.Messages;

namespace Relay.Silo.Soap;

/// <summary>
/// Relay's SOAP faults: <c>Client</c> for what the caller can fix (the statuses 4xx of the JSON API), <c>Server</c>
/// for what it cannot (503: storage or cluster unavailable; try again). The reason is the error's title and detail;
/// the <see cref="RelayFault"/> detail carries the status the JSON API answers for the same case. Every fault is
/// answered with HTTP 500, as SOAP 1.1 over HTTP asks, except where the request never reached SOAP processing
/// (wrong method or media type).
/// </summary>
internal static class SoapFaults
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static FaultException<RelayFault> From(RelayError error)
    {
        var detail = new RelayFault { StatusCode = error.StatusCode, Title = error.Title, Detail = error.Detail };
        var reason = string.IsNullOrEmpty(error.Detail) ? error.Title : $"{error.Title} {error.Detail}";
        // Sender and Receiver (no namespace: the predefined codes) are written as SOAP 1.1's Client and Server.
        var code = error.StatusCode >= 500 ? new FaultCode("Receiver") : FaultCode.CreateSenderFaultCode(null);
        return new FaultException<RelayFault>(detail, new FaultReason(reason), code, RelayFault.Action);
    }

    public static FaultException<RelayFault> BadRequest(string title, string? detail = null) => From(RelayError.BadRequest(title, detail));

    /// <summary>The fault as the message SoapCore writes back.</summary>
    /// <remarks>Without an action: SOAP 1.1 without WS-Addressing has no Action header, and WCF clients refuse one.</remarks>
    public static Message ToMessage(FaultException<RelayFault> fault, MessageVersion version) =>
        Message.CreateMessage(version, fault.Code, fault.Reason.ToString(), fault.Detail, action: null);

    /// <summary>Answers the request with the fault, without SoapCore (the request was refused before it).</summary>
    public static async Task WriteAsync(HttpContext http, FaultException<RelayFault> fault, int httpStatus = StatusCodes.Status500InternalServerError)
    {
        using var buffer = new MemoryStream();
        using (var message = ToMessage(fault, MessageVersion.Soap11))
        using (var writer = XmlDictionaryWriter.CreateTextWriter(buffer, Utf8, ownsStream: false))
        {
            message.WriteMessage(writer);
            writer.Flush();
        }

        http.Response.StatusCode = httpStatus;
        http.Response.ContentType = "text/xml; charset=utf-8";
        http.Response.ContentLength = buffer.Length;
        await http.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), http.RequestAborted);
    }
}
