using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Options;

namespace Relay.Adapters.Ftp;

/// <summary>
/// Delivers to FTP and FTPS servers: the payload becomes one file, uploaded in binary mode over a passive data
/// connection into the folder of the destination's address (<c>ftp://host:21/inbox/</c>, relative to the login
/// folder, as curl reads such a URL), named by the <c>FileName</c> template. The name comes from the message id,
/// so a retry overwrites what an earlier attempt left. The audit records the final reply and the session's
/// commands and replies (the password masked). The password may be a secret reference (<see cref="SecretReference"/>).
/// </summary>
public sealed partial class FtpAdapter : IProtocolAdapter<FtpDestinationOptions>
{
    private readonly FtpAdapterOptions _options;
    private readonly ILogger<FtpAdapter> _logger;
    private readonly SecretReader _secrets;

    public FtpAdapter(IOptions<FtpAdapterOptions> options, TimeProvider time, ILogger<FtpAdapter> logger)
    {
        _options = options.Value;
        _logger = logger;
        _secrets = new SecretReader(time);
    }

    public string Protocol => "Ftp";

    public async Task<AttemptResult> SendAsync(OutboundMessage message, FtpDestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!TryResolve(message, destination, out var settings, out var path, out var problem))
        {
            return AttemptResult.Final(problem);
        }

        string? configuredPassword;
        try
        {
            // Read at each attempt (at most every SecretReader.RereadInterval from the disk): a rotated file takes effect.
            configuredPassword = _secrets.Resolve(destination.Password, $"Relay:Destinations:{message.DestinationName}:Password");
        }
        catch (SecretUnavailableException ex)
        {
            // The operator's file or variable, which may be mended: the message waits for it, and nothing is sent.
            return Failed(message, AttemptOutcome.RetryableFailure, ex.Message, null, null);
        }

        var user = string.IsNullOrEmpty(destination.Username) ? "anonymous" : destination.Username;
        var password = configuredPassword ?? (string.IsNullOrEmpty(destination.Username) ? "anonymous@" : "");
        if (user.Any(char.IsControl) || password.Any(char.IsControl))
        {
            // Sent as they are, they would end the command early: say so, never what they are.
            return AttemptResult.Final("The destination's Username or Password contains control characters");
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        FtpClient? client = null;
        try
        {
            client = await FtpClient.ConnectAsync(settings, timeoutSource.Token).ConfigureAwait(false);
            await client.LoginAsync(user, password, timeoutSource.Token).ConfigureAwait(false);
            var reply = await client.UploadAsync(path, message.Payload, timeoutSource.Token).ConfigureAwait(false);
            using (var quitSource = CancellationTokenSource.CreateLinkedTokenSource(timeoutSource.Token))
            {
                quitSource.CancelAfter(_options.QuitTimeout);
                await client.QuitAsync(quitSource.Token).ConfigureAwait(false);
            }

            return new AttemptResult
            {
                Outcome = AttemptOutcome.Success,
                StatusCode = reply.Code,
                Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["File"] = path },
                Body = Transcript(client),
            };
        }
        catch (FtpReplyException ex)
        {
            var outcome = FtpReplyClassifier.ClassifyFailure(ex.Reply.Code);
            return Failed(message, outcome, $"{ex.Reply} ({ex.Command})", ex.Reply.Code, client);
        }
        catch (Exception ex) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested
                                   && ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            return Failed(message, AttemptOutcome.RetryableFailure, $"No answer within {timeout.TotalSeconds:0.###} s (timeout)", null, client);
        }
        catch (FtpProtocolException ex)
        {
            return Failed(message, AttemptOutcome.RetryableFailure, ex.Message, null, client);
        }
        catch (AuthenticationException)
        {
            return Failed(message, AttemptOutcome.RetryableFailure, "TLS handshake failed", null, client);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return Failed(message, AttemptOutcome.RetryableFailure, Describe(ex), null, client);
        }
        finally
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Where the file goes. A problem here is the configuration's, and no retry mends it.</summary>
    private bool TryResolve(OutboundMessage message, FtpDestinationOptions destination, out FtpConnectionSettings settings, out string path, out string problem)
    {
        settings = null!;
        path = "";
        if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var address) || !string.Equals(address.Scheme, "ftp", StringComparison.OrdinalIgnoreCase))
        {
            problem = "The destination's Address is not an ftp:// address";
            return false;
        }

        var folder = Uri.UnescapeDataString(address.AbsolutePath).TrimStart('/');
        if (folder.Length > 0 && !folder.EndsWith('/'))
        {
            folder += "/";
        }

        var fileName = FtpFileName.Render(destination.FileName, message.MessageId);
        if (fileName.Length == 0 || fileName.Contains('/', StringComparison.Ordinal))
        {
            problem = "The destination's FileName must give a file name (no '/')";
            return false;
        }

        path = folder + fileName;
        if (path.Any(char.IsControl))
        {
            problem = "The destination's Address or FileName contains control characters";
            return false;
        }

        settings = new FtpConnectionSettings
        {
            Host = address.IdnHost,
            Port = address.Port > 0 ? address.Port : 21,
            UseTls = destination.UseTls,
            CertificateValidation = _options.CertificateValidation,
            MaxReplyBytes = _options.MaxReplyBytes,
        };
        problem = "";
        return true;
    }

    private AttemptResult Failed(OutboundMessage message, AttemptOutcome outcome, string error, int? code, FtpClient? client)
    {
        Log.AttemptFailed(_logger, message.MessageId, message.DestinationName, error);
        return new AttemptResult { Outcome = outcome, Error = error, StatusCode = code, Body = client is null ? null : Transcript(client) };
    }

    private static string? Transcript(FtpClient client) =>
        client.Transcript.Count == 0 ? null : string.Join('\n', client.Transcript);

    private static string Describe(Exception ex) =>
        SocketFailure.Describe(ex) ?? (ex is FtpConnectionClosedException ? ex.Message : "Connection failed: " + ex.GetType().Name);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2301, Level = LogLevel.Debug, Message = "FTP attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
