using System.Diagnostics;
using System.Reflection;
using System.Runtime.Serialization;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using Relay.Contracts;
using SoapCore.Extensibility;

namespace Relay.Silo.Soap;

/// <summary>
/// Turns what goes wrong inside SoapCore's handling of a request into Relay's faults: the service's
/// <see cref="FaultException{RelayFault}"/> as it is; a missing or unknown SOAPAction and a body that does not match
/// the operation's contract (markup where it has text included) into a <c>Client</c> fault that says so. A user's
/// error is answered, not logged; an error of the system is logged once and answered with a <c>Server</c> fault.
/// </summary>
internal sealed partial class SoapFaultProcessor(ILogger<SoapFaultProcessor> logger) : ISoapMessageProcessor
{
    private const string MarkupInText =
        "A member the contract types as text (an id, a destination, the payload, a header value...) holds child elements. "
        + "Send it as text: markup escaped (&lt;b&gt;) or in a CDATA section, or the payload as PayloadBase64. "
        + "See /Messaging.svc?wsdl. Nothing was stored.";

    private static readonly string Operations =
        $"Use {RelayNamespaces.Messaging}/IMessagingService/Send or {RelayNamespaces.Messaging}/IMessagingService/GetStatus (see /Messaging.svc?wsdl).";

    public async Task<Message> ProcessMessage(Message message, HttpContext context, Func<Message, Task<Message>> next)
    {
        try
        {
            return await next(message);
        }
        catch (FaultException<RelayFault> fault)
        {
            return Answer(context, message.Version, fault);
        }
        catch (ArgumentException) when (string.IsNullOrEmpty(context.Request.Headers["SOAPAction"].ToString().Trim('"')))
        {
            // Without a SOAPAction SoapCore goes by the body's element; this one named no operation either.
            return Answer(context, message.Version, SoapFaults.BadRequest(
                "The request has no SOAPAction, and its body names no operation of Relay's messaging service.", Operations));
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("No operation found", StringComparison.Ordinal))
        {
            return Answer(context, message.Version, SoapFaults.BadRequest(
                $"The SOAPAction '{Shorten(context.Request.Headers["SOAPAction"].ToString())}' names no operation of Relay's messaging service.", Operations));
        }
        catch (Exception ex) when (ex is SerializationException or XmlException or FormatException or ArgumentException or TargetParameterCountException)
        {
            // The body did not deserialize into the operation's parameters (an envelope without its operation's
            // element leaves SoapCore with no parameters: TargetParameterCountException).
            return Answer(context, message.Version, SoapFaults.BadRequest(
                "The body does not match the operation's contract.", $"{ex.Message} See /Messaging.svc?wsdl. Nothing was stored."));
        }
        catch (InvalidOperationException ex) when (IsParameterMarkupRefused(ex))
        {
            // Markup where the contract has text (<Payload><b>x</b></Payload>): the reader refuses it while SoapCore
            // deserializes the parameters, with an InvalidOperationException ("The ReadContentAsString method is not
            // supported on node type Element") that DataContractSerializer does not wrap. Sent again it fails again:
            // the caller's error. The reader's own message speaks to a programmer of the reader, so it is not passed on.
            return Answer(context, message.Version, SoapFaults.BadRequest(
                "The body does not match the operation's contract.", MarkupInText));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.Failed(logger, ex, Shorten(context.Request.Headers["SOAPAction"].ToString()));
            return Answer(context, message.Version, SoapFaults.From(Messaging.MessageService.Unavailable));
        }
    }

    /// <summary>
    /// Whether an <see cref="XmlReader"/> threw the exception while SoapCore was deserializing the operation's
    /// parameters (<c>SoapCore.Serializer.SerializerHelper.DeserializeInputParameter</c>), that is, on the caller's
    /// XML. Any other <see cref="InvalidOperationException"/>, from the service or from Relay's own use of a reader,
    /// stays an error of the system.
    /// </summary>
    internal static bool IsParameterMarkupRefused(InvalidOperationException exception)
    {
        if (exception.TargetSite?.DeclaringType is not { } thrower || !typeof(XmlReader).IsAssignableFrom(thrower))
        {
            return false;
        }

        foreach (var frame in new StackTrace(exception, fNeedFileInfo: false).GetFrames())
        {
            if (frame.GetMethod() is { Name: "DeserializeInputParameter", DeclaringType.FullName: "SoapCore.Serializer.SerializerHelper" })
            {
                return true;
            }
        }

        return false;
    }

    private static Message Answer(HttpContext context, MessageVersion version, FaultException<RelayFault> fault)
    {
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        context.Response.ContentType = "text/xml; charset=utf-8";
        return SoapFaults.ToMessage(fault, version);
    }

    private static string Shorten(string value) => value.Length <= 200 ? value : value[..200] + "…";

    /// <summary>Also <see cref="SoapSendFastPath"/>'s: an error of the system is logged alike whichever path served the request.</summary>
    internal static partial class Log
    {
        [LoggerMessage(EventId = 3101, Level = LogLevel.Error, Message = "SOAP request for action {SoapAction} failed")]
        public static partial void Failed(ILogger logger, Exception exception, string soapAction);
    }
}
