using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Options;

namespace Relay.Adapters.Ldap;

/// <summary>
/// Delivers to LDAP directories (System.DirectoryServices.Protocols, over libldap on Linux): the payload is a JSON
/// description of one add, modify or delete of an entry (<see cref="LdapOperation"/>), applied after a simple bind
/// as <c>BindDn</c> (anonymous without one). The audit records the result code (0 for success) and the server's
/// message. A payload that is no such description dead-letters at once, so an operator can mend and resubmit it.
/// </summary>
/// <remarks>
/// The library's calls block; each attempt runs on a thread-pool thread and is awaited for at most its timeout. A
/// call still blocked then (a server that accepts and never answers) is left to the library's own time limits, set
/// to the same timeout, and the connection is disposed once it returns, never while it is in use.
/// </remarks>
public sealed partial class LdapAdapter : IProtocolAdapter<LdapDestinationOptions>
{
    private readonly ILogger<LdapAdapter> _logger;

    public LdapAdapter(ILogger<LdapAdapter> logger)
    {
        _logger = logger;
    }

    public string Protocol => "Ldap";

    public async Task<AttemptResult> SendAsync(OutboundMessage message, LdapDestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var address) || !string.Equals(address.Scheme, "ldap", StringComparison.OrdinalIgnoreCase))
        {
            return AttemptResult.Final("The destination's Address is not an ldap:// address");
        }

        if (!LdapOperation.TryParse(message.Payload, out var operation, out var problem))
        {
            // Named by its place in the payload, never by a value: the error is logged.
            return Failed(message, AttemptOutcome.NonRetryableFailure, "The payload is not an LDAP operation: " + problem, null, null, null);
        }

        var host = address.IdnHost;
        var port = address.Port > 0 ? address.Port : 389;
        var work = Task.Run(() => Execute(host, port, destination.BindDn, destination.Password, operation, timeout), CancellationToken.None);
        LdapOutcome outcome;
        try
        {
            outcome = await work.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _ = work.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return Failed(message, AttemptOutcome.RetryableFailure, $"No answer within {timeout.TotalSeconds:0.###} s (timeout)", null, null, operation);
        }

        var name = LdapResultClassifier.Name(outcome.Code);
        // The server's texts as storable text (ResponseText), like every destination's answer.
        var body = string.IsNullOrWhiteSpace(outcome.ServerMessage) ? null : ResponseText.FromText(outcome.ServerMessage.Trim());
        if (!string.IsNullOrEmpty(outcome.MatchedDn))
        {
            body = (body is null ? "" : body + "; ") + "matched DN: " + ResponseText.FromText(outcome.MatchedDn);
        }

        if (outcome.Code == 0)
        {
            return new AttemptResult
            {
                Outcome = AttemptOutcome.Success,
                StatusCode = 0,
                Headers = Headers(operation),
                Body = body is null ? $"{operation.Name}: 0 {name}" : $"{operation.Name}: 0 {name}: {body}",
            };
        }

        // The DN and the server's message may carry the payload's data: they go to the audit, not into the error
        // (which is logged).
        var error = string.Create(CultureInfo.InvariantCulture, $"{outcome.Code} {name} ({outcome.Step})");
        return Failed(message, LdapResultClassifier.ClassifyFailure(outcome.Code), error, outcome.Code, body, operation);
    }

    private static LdapOutcome Execute(string host, int port, string? bindDn, string? password, LdapOperation operation, TimeSpan timeout)
    {
        var step = "bind";
        try
        {
            using var connection = new LdapConnection(new LdapDirectoryIdentifier(host, port, fullyQualifiedDnsHostName: false, connectionless: false));
            connection.SessionOptions.ProtocolVersion = 3;
            connection.Timeout = timeout;
            connection.AutoBind = false;
            if (string.IsNullOrEmpty(bindDn))
            {
                connection.AuthType = AuthType.Anonymous;
                connection.Bind();
            }
            else
            {
                connection.AuthType = AuthType.Basic;
                connection.Bind(new NetworkCredential(bindDn, password ?? ""));
            }

            step = operation.Name;
            var response = connection.SendRequest(ToRequest(operation), timeout);
            return new LdapOutcome((int)response.ResultCode, step, response.ErrorMessage, response.MatchedDN);
        }
        catch (DirectoryOperationException ex) when (ex.Response is not null)
        {
            return new LdapOutcome((int)ex.Response.ResultCode, step, ex.Response.ErrorMessage, ex.Response.MatchedDN);
        }
        catch (LdapException ex)
        {
            return new LdapOutcome(ex.ErrorCode, step, ex.ServerErrorMessage, null);
        }
        catch (TimeoutException)
        {
            return new LdapOutcome(85, step, null, null);
        }
    }

    private static DirectoryRequest ToRequest(LdapOperation operation)
    {
        switch (operation.Kind)
        {
            case LdapOperationKind.Add:
                var add = new AddRequest(operation.Dn);
                foreach (var attribute in operation.Attributes)
                {
                    add.Attributes.Add(new DirectoryAttribute(attribute.Name, attribute.Values.ToArray<object>()));
                }

                return add;
            case LdapOperationKind.Modify:
                var modify = new ModifyRequest(operation.Dn);
                foreach (var change in operation.Changes)
                {
                    var modification = new DirectoryAttributeModification
                    {
                        Name = change.Attribute,
                        Operation = change.Kind switch
                        {
                            LdapChangeKind.Add => DirectoryAttributeOperation.Add,
                            LdapChangeKind.Replace => DirectoryAttributeOperation.Replace,
                            _ => DirectoryAttributeOperation.Delete,
                        },
                    };
                    foreach (var value in change.Values)
                    {
                        modification.Add(value);
                    }

                    modify.Modifications.Add(modification);
                }

                return modify;
            default:
                return new DeleteRequest(operation.Dn);
        }
    }

    private static Dictionary<string, string> Headers(LdapOperation operation) =>
        new(StringComparer.OrdinalIgnoreCase) { ["Operation"] = operation.Name, ["Dn"] = operation.Dn };

    private AttemptResult Failed(OutboundMessage message, AttemptOutcome outcome, string error, int? code, string? body, LdapOperation? operation)
    {
        Log.AttemptFailed(_logger, message.MessageId, message.DestinationName, error);
        return new AttemptResult
        {
            Outcome = outcome,
            Error = error,
            StatusCode = code,
            Body = body,
            Headers = operation is null ? null : Headers(operation),
        };
    }

    /// <param name="Step">bind, or the operation's name.</param>
    private sealed record LdapOutcome(int Code, string Step, string? ServerMessage, string? MatchedDn);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2501, Level = LogLevel.Debug, Message = "LDAP attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
