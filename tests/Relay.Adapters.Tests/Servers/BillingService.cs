using System.Collections.Concurrent;
using System.ServiceModel;
using System.ServiceModel.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SoapCore;

namespace Relay.Adapters.Tests.Servers;

[ServiceContract(Namespace = BillingService.Namespace)]
public interface IBillingService
{
    [OperationContract]
    Task<string> Bill(int amount, string customer);
}

/// <summary>What a test SOAP service was called with, and the HTTP headers of the call.</summary>
public sealed record BillingCall(int Amount, string Customer, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A real SOAP service for the adapter's tests: SoapCore on 127.0.0.1, <c>/billing11.svc</c> (SOAP 1.1) and
/// <c>/billing12.svc</c> (SOAP 1.2), optionally behind SoapCore's WS-Security UsernameToken check. It bills positive
/// amounts, answers a Client fault for the others, and a Server fault to the customer <c>flaky</c> while
/// <see cref="ServerFaultsLeft"/> lasts.
/// </summary>
public sealed class BillingService : IBillingService, IAsyncDisposable
{
    public const string Namespace = "urn:test:billing";
    public const string Action = Namespace + "/IBillingService/Bill";

    private readonly ConcurrentQueue<BillingCall> _calls = new();
    private readonly AsyncLocal<IReadOnlyDictionary<string, string>?> _headers = new();
    private WebApplication _app = null!;
    private int _serverFaultsLeft;

    public string BaseUrl { get; private set; } = "";

    public IReadOnlyList<BillingCall> Calls => _calls.ToArray();

    public int ServerFaultsLeft
    {
        get => Volatile.Read(ref _serverFaultsLeft);
        set => Volatile.Write(ref _serverFaultsLeft, value);
    }

    public static async Task<BillingService> StartAsync(string? username = null, string? password = null)
    {
        var service = new BillingService();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSoapCore();
        builder.Services.AddSingleton<IBillingService>(service);
        if (username is not null)
        {
            builder.Services.AddSoapWsSecurityFilter(username, password);
        }

        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            service._headers.Value = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            await next(context);
        });
        // WebApplication is also an IEndpointRouteBuilder: SoapCore's overloads are ambiguous without the cast.
        var pipeline = (IApplicationBuilder)app;
        pipeline.UseSoapEndpoint<IBillingService>("/billing11.svc", new SoapEncoderOptions { MessageVersion = MessageVersion.Soap11 }, SoapSerializer.DataContractSerializer);
        pipeline.UseSoapEndpoint<IBillingService>("/billing12.svc", new SoapEncoderOptions { MessageVersion = MessageVersion.CreateVersion(EnvelopeVersion.Soap12, AddressingVersion.None) }, SoapSerializer.DataContractSerializer);
        await app.StartAsync();
        service._app = app;
        service.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return service;
    }

    public string Url(string path) => BaseUrl + path;

    public Task<string> Bill(int amount, string customer)
    {
        _calls.Enqueue(new BillingCall(amount, customer, _headers.Value ?? new Dictionary<string, string>()));
        if (amount <= 0)
        {
            throw new FaultException(new FaultReason("Amount must be positive"), new FaultCode("Client"), Action);
        }

        if (customer == "flaky" && Interlocked.Decrement(ref _serverFaultsLeft) >= 0)
        {
            throw new FaultException(new FaultReason("Billing database is down"), new FaultCode("Server"), Action);
        }

        return Task.FromResult($"invoice-for-{customer}-{amount}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
