using System.Globalization;
using Orleans;
using Orleans.Runtime;

namespace Relay.Storage.AdoNet;

/// <summary>
/// Orleans's ADO.NET reminder table, except that removing a reminder with an ETag it never handed out answers
/// false, as every reminder table must, instead of throwing (the stock table parses the ETag as an integer first).
/// </summary>
internal sealed class EtagCheckingReminderTable(IReminderTable inner) : IReminderTable
{
    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => inner.StopAsync(cancellationToken);

    public Task<ReminderTableData> ReadRows(GrainId grainId) => inner.ReadRows(grainId);

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => inner.ReadRows(begin, end);

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => inner.ReadRow(grainId, reminderName);

    public Task<string?> UpsertRow(ReminderEntry entry) => inner.UpsertRow(entry);

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) =>
        int.TryParse(eTag, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            ? inner.RemoveRow(grainId, reminderName, eTag)
            : Task.FromResult(false);

    public Task TestOnlyClearTable() => inner.TestOnlyClearTable();
}
