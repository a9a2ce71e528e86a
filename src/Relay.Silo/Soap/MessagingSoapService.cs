using Relay.Contracts;
using Relay.Silo.Messaging;
using Relay.Silo.Security;

namespace Relay.Silo.Soap;

/// <summary>
/// <see cref="IMessagingService"/> as the silo serves it at <c>/Messaging.svc</c>: a thin mapping onto
/// <see cref="MessageService"/>, the code path behind <c>POST /messages</c> and <c>GET /messages/{id}</c> too, so
/// validation, idempotency, statuses and who may read what cannot differ between the two front doors. Errors
/// become SOAP faults.
/// </summary>
internal sealed class MessagingSoapService(MessageService messages, IHttpContextAccessor http) : IMessagingService
{
    public async Task<SendResult> SendAsync(SendRequest request) =>
        Answer(await messages.SendAsync(request, Caller(), MessageService.SoapFrontDoor));

    public async Task<SendResult> GetStatusAsync(string id) =>
        Answer(await messages.GetAsync(id, withAudit: true, Caller()));

    // The request was authenticated before SoapCore ran (RelaySecurityExtensions); no caller means no keys.
    private RelayCaller Caller() => http.HttpContext?.User.Caller() ?? RelayPrincipal.Anonymous;

    private static SendResult Answer(MessageOutcome outcome) =>
        outcome.Error is { } error ? throw SoapFaults.From(error) : outcome.Result!;
}
