using System.ServiceModel.Channels;
using System.Text;
using System.Xml;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Options;
using SoapCore;

namespace Relay.Silo.Soap;

/// <summary>
/// The SOAP front door (<c>/Messaging.svc</c>, SOAP 1.1, WSDL at <c>?wsdl</c>), served with SoapCore: CoreWCF, the
/// other server of WCF contracts on .NET, is not in Relay's package registry.
/// </summary>
public static class SoapFrontDoorExtensions
{
    public const string Path = "/Messaging.svc";

    /// <summary>
    /// The largest SOAP request read: as for the JSON API's bodies, a base64 payload at the limit (4/3 of it) plus
    /// room for the rest of the message.
    /// </summary>
    public static long MaxEnvelopeBytes(LimitOptions limits) => (long)limits.MaxPayloadBytes * 4 / 3 + 256 * 1024;

    /// <summary>Registers SoapCore and <see cref="IMessagingService"/> (over <see cref="Messaging.MessageService"/>).</summary>
    public static IServiceCollection AddRelaySoapFrontDoor(this IServiceCollection services)
    {
        services.AddSoapCore();
        services.AddSingleton<IMessagingService, MessagingSoapService>();
        services.AddSingleton<SoapSendFastPath>();
        services.AddSoapMessageProcessor<SoapFaultProcessor>();
        return services;
    }

    /// <summary>
    /// Serves <c>/Messaging.svc</c>: <see cref="SoapEnvelopeGuard"/>, which answers a plain Send itself
    /// (<see cref="SoapSendFastPath"/>), then SoapCore for everything else.
    /// </summary>
    public static IApplicationBuilder UseRelaySoapFrontDoor(this IApplicationBuilder app)
    {
        var limits = app.ApplicationServices.GetRequiredService<IOptions<RelayOptions>>().Value.Limits;
        var maxEnvelope = (int)Math.Min(MaxEnvelopeBytes(limits), int.MaxValue);
        app.UseWhen(http => http.Request.Path.StartsWithSegments(Path, StringComparison.OrdinalIgnoreCase), soap =>
        {
            soap.UseMiddleware<SoapEnvelopeGuard>();
            soap.UseSoapEndpoint<IMessagingService>(options =>
            {
                options.Path = Path;
                options.CaseInsensitivePath = true;
                options.SoapSerializer = SoapSerializer.DataContractSerializer;
                options.EncoderOptions =
                [
                    new SoapEncoderOptions
                    {
                        MessageVersion = MessageVersion.Soap11,
                        WriteEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
                        ReaderQuotas = new XmlDictionaryReaderQuotas
                        {
                            MaxDepth = SoapEnvelopeGuard.MaxDepth,
                            MaxStringContentLength = maxEnvelope,
                            MaxArrayLength = maxEnvelope,
                            MaxBytesPerRead = 64 * 1024,
                            MaxNameTableCharCount = 64 * 1024,
                        },
                    },
                ];
                // SoapCore's form-post door (/Messaging.svc/{operation}) is not Relay's; the guard refuses it too.
                options.HttpPostEnabled = false;
                options.HttpsPostEnabled = false;
                options.IndentXml = false;
            });
        });
        return app;
    }
}
