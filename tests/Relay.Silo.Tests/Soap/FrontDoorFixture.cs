using System.ServiceModel;
using Microsoft.Extensions.Logging;

namespace Relay.Silo.Tests.Soap;

/// <summary>A real silo with HTTP destinations on a <see cref="TestDestination"/>, and WCF clients for its <c>/Messaging.svc</c>.</summary>
public sealed class FrontDoorFixture : SiloFixture
{
    /// <summary>Small, so that the size limits are quick to reach: the envelope limit is 4/3 of it plus 256 KiB.</summary>
    public const int MaxPayloadBytes = 4096;

    /// <summary>Every line the silo logs, at every level.</summary>
    public CapturedLogs Logs { get; } = new();

    public Uri ServiceUrl => new(Silo.Client.BaseAddress!, "/Messaging.svc");

    protected override ILoggerProvider SiloLogs => Logs;

    protected override SiloSettings Configure() => new SiloSettings
    {
        ["Relay:Limits:MaxPayloadBytes"] = MaxPayloadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Relay:Destinations:tenanted:Headers:X-Tenant"] = "acme",
        ["Relay:Topics:order.created:0"] = "billing",
        ["Relay:Topics:order.created:1"] = "shipping",
    }
        .Contract("quick", 3)
        .Destination("billing", Destination.Url("/bill"), "quick")
        .Destination("shipping", Destination.Url("/ship"), "quick")
        .Destination("long", Destination.Url("/long"))
        .Destination("tenanted", Destination.Url("/tenant"));

    /// <summary>A stock WCF client: <see cref="ChannelFactory{TChannel}"/> over <see cref="BasicHttpBinding"/>, nothing else.</summary>
    public WcfClient Connect() => new(ServiceUrl);
}

public sealed class WcfClient : IAsyncDisposable
{
    private readonly ChannelFactory<IMessagingService> _factory;

    /// <param name="apiKey">Sent as <c>X-Api-Key</c> on every call (a message inspector, the stock WCF way to add an HTTP header).</param>
    public WcfClient(Uri address, string? apiKey = null)
    {
        _factory = new ChannelFactory<IMessagingService>(new BasicHttpBinding(), new EndpointAddress(address));
        if (apiKey is not null)
        {
            _factory.Endpoint.EndpointBehaviors.Add(new ApiKeyBehavior(apiKey));
        }

        Service = _factory.CreateChannel();
    }

    public IMessagingService Service { get; }

    public async ValueTask DisposeAsync()
    {
        var channel = (IClientChannel)Service;
        try
        {
            if (channel.State == CommunicationState.Faulted)
            {
                channel.Abort();
            }
            else
            {
                await Task.Factory.FromAsync(channel.BeginClose, channel.EndClose, null);
            }

            await Task.Factory.FromAsync(_factory.BeginClose, _factory.EndClose, null);
        }
        catch (CommunicationException)
        {
            channel.Abort();
            _factory.Abort();
        }
    }
}

/// <summary>Adds <c>X-Api-Key</c> to every request a WCF client sends.</summary>
public sealed class ApiKeyBehavior(string key) : System.ServiceModel.Description.IEndpointBehavior, System.ServiceModel.Dispatcher.IClientMessageInspector
{
    public void AddBindingParameters(System.ServiceModel.Description.ServiceEndpoint endpoint, System.ServiceModel.Channels.BindingParameterCollection bindingParameters)
    {
    }

    public void ApplyClientBehavior(System.ServiceModel.Description.ServiceEndpoint endpoint, System.ServiceModel.Dispatcher.ClientRuntime clientRuntime) =>
        clientRuntime.ClientMessageInspectors.Add(this);

    public void ApplyDispatchBehavior(System.ServiceModel.Description.ServiceEndpoint endpoint, System.ServiceModel.Dispatcher.EndpointDispatcher endpointDispatcher)
    {
    }

    public void Validate(System.ServiceModel.Description.ServiceEndpoint endpoint)
    {
    }

    public object? BeforeSendRequest(ref System.ServiceModel.Channels.Message request, IClientChannel channel)
    {
        if (!request.Properties.TryGetValue(System.ServiceModel.Channels.HttpRequestMessageProperty.Name, out var value)
            || value is not System.ServiceModel.Channels.HttpRequestMessageProperty http)
        {
            http = new System.ServiceModel.Channels.HttpRequestMessageProperty();
            request.Properties[System.ServiceModel.Channels.HttpRequestMessageProperty.Name] = http;
        }

        http.Headers["X-Api-Key"] = key;
        return null;
    }

    public void AfterReceiveReply(ref System.ServiceModel.Channels.Message reply, object? correlationState)
    {
    }
}
