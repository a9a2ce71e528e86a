using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Options;

namespace Relay.Adapters.Ldap;

/// <summary>
/// Delivers to LDAP directories (System.DirectoryServices.Protocols, over libldap on Linux): the payload is a JSON
/// description of one add, modify or delete of an entry (<see cref="LdapOperation"/>), applied after a simple bind
/// as <c>BindDn</c> (anonymous without one; the password may be a secret reference, <see cref="SecretReference"/>). The entry must lie within the base DN of the destination's address
/// (<c>ldap://host/ou=people,dc=example,dc=com</c>): the payload names the DN, and a sender must not reach the rest of
/// the directory with the destination's credentials. <c>ldaps://</c> speaks TLS from the start, <c>UseTls</c> sends
/// StartTLS before the bind; <c>TrustedCaPath</c> names a CA (PEM) to trust for that destination's server. The audit
/// records the result code (0 for success) and the server's message. A payload that is no such description, or an
/// entry outside the base DN, dead-letters at once, so an operator can mend and resubmit it.
/// </summary>
/// <remarks>
/// The library's calls block; they run on the adapter's own threads (<see cref="LdapCallQueue"/>,
/// <see cref="LdapAdapterOptions.MaxConcurrentCalls"/>), never on the thread pool, each with libldap's own time limits
/// set to the attempt's timeout (<see cref="LibLdap"/>), and each attempt with its own connection, disposed by the
/// thread that used it.
/// </remarks>
public sealed partial class LdapAdapter : IProtocolAdapter<LdapDestinationOptions>, IDisposable
{
    private readonly ILogger<LdapAdapter> _logger;
    private readonly LdapCallQueue _calls;
    private readonly LdapTrustedCa _trustedCa = new();
    private readonly SecretReader _secrets;

    public LdapAdapter(IOptions<LdapAdapterOptions> options, TimeProvider time, ILogger<LdapAdapter> logger)
    {
        _logger = logger;
        _secrets = new SecretReader(time);
        _calls = new LdapCallQueue(options.Value.MaxConcurrentCalls);
    }

    public string Protocol => "Ldap";

    public async Task<AttemptResult> SendAsync(OutboundMessage message, LdapDestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!LdapAddress.TryParse(destination.Address, destination.UseTls, out var address, out var addressProblem))
        {
            return AttemptResult.Final("The destination's Address " + addressProblem);
        }

        if (!LdapOperation.TryParse(message.Payload, out var operation, out var problem))
        {
            // Named by its place in the payload, never by a value: the error is logged.
            return Failed(message, AttemptOutcome.NonRetryableFailure, "The payload is not an LDAP operation: " + problem, null, null, null);
        }

        if (!LdapDn.TryParse(operation.Dn, out var dn, out problem))
        {
            return Failed(message, AttemptOutcome.NonRetryableFailure, "The payload's dn is not a valid DN: " + problem, null, null, operation);
        }

        if (!dn.IsWithin(address.BaseDn))
        {
            // The base DN is configuration and may be logged; the entry's DN is the payload's, so only in the audit.
            return Failed(message, AttemptOutcome.NonRetryableFailure, $"The entry is outside the destination's base DN {address.BaseDnText} ({operation.Name})",
                null, $"{operation.Name} refused: '{ResponseText.FromText(operation.Dn)}' is not within the base DN '{address.BaseDnText}'", operation);
        }

        string? caDirectory = null;
        if (address.Security != LdapSecurity.None && !string.IsNullOrEmpty(destination.TrustedCaPath)
            && !_trustedCa.TryDirectory(destination.TrustedCaPath, out caDirectory, out problem))
        {
            // The operator's file, which may be mended: the message waits for it.
            return Failed(message, AttemptOutcome.RetryableFailure, "The destination's TrustedCaPath " + problem, null, null, operation);
        }

        string? password = null;
        if (!string.IsNullOrEmpty(destination.BindDn))
        {
            try
            {
                // Read at each attempt (at most every SecretReader.RereadInterval from the disk): a rotated file takes effect.
                password = _secrets.Resolve(destination.Password, $"Relay:Destinations:{message.DestinationName}:Password");
            }
            catch (SecretUnavailableException ex)
            {
                // The operator's file or variable, which may be mended: the message waits for it, and nothing is sent.
                return Failed(message, AttemptOutcome.RetryableFailure, ex.Message, null, null, operation);
            }
        }

        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var work = _calls.RunAsync(() => Execute(address, destination.BindDn, password, caDirectory, operation, timeout), timeout, giveUp.Token);
        LdapOutcome outcome;
        try
        {
            outcome = await work.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The queue skips a call whose time ran out waiting for a thread (cancelled), possibly a moment before
            // WaitAsync's own timeout: the same outcome. Not yet started: it never will be. Started: libldap's own limits (the same timeout) end it soon.
            await giveUp.CancelAsync().ConfigureAwait(false);
            _ = work.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return Failed(message, AttemptOutcome.RetryableFailure, $"No answer within {timeout.TotalSeconds:0.###} s (timeout)", null, null, operation);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await giveUp.CancelAsync().ConfigureAwait(false);
            throw;
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

    private static LdapOutcome Execute(LdapAddress address, string? bindDn, string? password, string? caDirectory, LdapOperation operation, TimeSpan timeout)
    {
        var step = "connect";
        LdapConnection? connection = null;
        try
        {
            connection = new LdapConnection(new LdapDirectoryIdentifier(address.Host, address.Port, fullyQualifiedDnsHostName: false, connectionless: false));
            connection.SessionOptions.ProtocolVersion = 3;
            // Referrals would take the bind's credentials to another server, and the entry outside the base DN.
            connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
            connection.Timeout = timeout;
            connection.AutoBind = false;
            if (!OperatingSystem.IsWindows())
            {
                // Linux's libldap (Windows's wldap32 has none of these problems, and none of these options).
                LibLdap.Configure(connection, address.Uri, timeout);
            }

            if (address.Security != LdapSecurity.None)
            {
                step = address.Security == LdapSecurity.StartTls ? "starttls" : "tls";
                if (caDirectory is not null && !OperatingSystem.IsWindows())
                {
                    // This connection's own TLS context: the CA is trusted for this destination only, and libldap's
                    // global context (every other connection's) is left as it is.
                    connection.SessionOptions.TrustedCertificatesDirectory = caDirectory;
                    connection.SessionOptions.StartNewTlsSessionContext();
                }

                if (address.Security == LdapSecurity.Ldaps)
                {
                    connection.SessionOptions.SecureSocketLayer = true;
                }
                else
                {
                    connection.SessionOptions.StartTransportLayerSecurity(null);
                }
            }

            step = "bind";
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
        catch (DirectoryOperationException ex)
        {
            // A bind the server refused with a result code the managed API keeps only as text (13
            // confidentialityRequired, ...): the code is the connection's last result.
            var code = connection is not null && !OperatingSystem.IsWindows() ? LibLdap.LastResultCode(connection) : 0;
            return new LdapOutcome(code > 0 ? code : 80, step, ex.Message, null);
        }
        catch (LdapException ex)
        {
            return new LdapOutcome(ex.ErrorCode, step == "connect" ? "bind" : step, ex.ServerErrorMessage, null);
        }
        catch (TimeoutException)
        {
            return new LdapOutcome(85, step, null, null);
        }
        finally
        {
            // On this thread, once the call has returned: never while another thread may still use it.
            connection?.Dispose();
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

    public void Dispose()
    {
        _calls.Dispose();
        _trustedCa.Dispose();
    }

    /// <param name="Step">tls, starttls, bind, or the operation's name.</param>
    private sealed record LdapOutcome(int Code, string Step, string? ServerMessage, string? MatchedDn);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2501, Level = LogLevel.Debug, Message = "LDAP attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
