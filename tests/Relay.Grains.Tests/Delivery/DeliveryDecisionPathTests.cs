using System.Text;
using System.Text.Json.Nodes;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Options;
using Relay.Grains.Delivery;

namespace Relay.Grains.Tests.Delivery;

/// <summary>
/// The delivery grain's decision path without a silo: a stored state read into the lifecycle (<see cref="DeliveryState.ToProgress"/>),
/// the decision taken back (<see cref="DeliveryState.Apply"/>) into what is written, and the final notification it
/// hands over. What the lifecycle decides is tested in Relay.Core.Tests (DeliveryLifecycleTests); the grains together,
/// on real silos, in Relay.EndToEnd.Tests.
/// </summary>
public sealed class DeliveryDecisionPathTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 2, 0, 0, TimeSpan.Zero);

    private static DeliveryEnvelope Envelope(string? orderingKey = "customer-42", string? notify = "app-callbacks", bool isNotification = false) => new()
    {
        MessageId = "order-1",
        Destination = "billing",
        Payload = Encoding.UTF8.GetBytes("{\"amount\":200}"),
        ContentType = "application/json",
        Headers = new Dictionary<string, string> { ["X-Tenant"] = "acme" },
        Notify = notify,
        OrderingKey = orderingKey,
        CorrelationId = "req-9",
        ContentHash = "hash-1",
        AcceptedAt = Now,
        IsNotification = isNotification,
        TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };

    private static DeliveryRules Rules() => new(
        new DestinationOptions { Address = "http://127.0.0.1:1/bill", SyncTimeout = TimeSpan.FromSeconds(2) },
        "fast", new RetryContractOptions { MaxAttempts = 3, Delay = TimeSpan.FromSeconds(5) }, TimeSpan.FromSeconds(10));

    [Fact]
    public void Every_field_the_lifecycle_decides_is_taken_into_the_stored_state_and_read_back()
    {
        // Each decided property of DeliveryProgress set to a value of its own: a field Apply or ToProgress forgets
        // would be decided and never written (or written and never read).
        var facts = new[] { nameof(DeliveryProgress.MessageId), nameof(DeliveryProgress.Destination), nameof(DeliveryProgress.Ordered), nameof(DeliveryProgress.Notifies) };
        var decided = typeof(DeliveryProgress).GetProperties().Where(p => p.CanWrite && !facts.Contains(p.Name)).ToList();
        var state = DeliveryState.From(Envelope());
        var progress = state.ToProgress();
        var i = 0;
        foreach (var property in decided)
        {
            i++;
            object value = property.PropertyType switch
            {
                var t when t == typeof(DeliveryStatus) => DeliveryStatus.DeadLettered,
                var t when t == typeof(int) || t == typeof(int?) => 100 + i,
                var t when t == typeof(bool) => true,
                var t when t == typeof(string) => $"value-{i}",
                var t when t == typeof(DateTimeOffset) || t == typeof(DateTimeOffset?) => Now.AddMinutes(i),
                var t when t == typeof(IReadOnlyDictionary<string, string>) => new Dictionary<string, string> { ["Retry-After"] = $"{i}" },
                var t => throw new InvalidOperationException($"A decided field of a type this test does not know: {property.Name} ({t})."),
            };
            var copy = progress with { };
            property.SetValue(copy, value);
            progress = copy;
        }

        state.Apply(progress);
        var read = state.ToProgress();

        Assert.All(decided, property => Assert.Equivalent(property.GetValue(progress), property.GetValue(read)));
        Assert.NotEmpty(decided);
    }

    [Fact]
    public void Taking_a_decision_leaves_the_content_unchanged_so_an_attempt_write_does_not_carry_the_payload()
    {
        var state = DeliveryState.From(Envelope());
        state.ContentUnsaved = false;

        var decision = DeliveryLifecycle.Decide(state.ToProgress(), new DeliveryEvent.AttemptFinished(AttemptResult.Retryable("503 Service Unavailable", 503)), Rules(), Now, 0);
        state.Apply(decision.State);

        Assert.False(state.ContentUnsaved);
        Assert.Equal(DeliveryStatus.InRetry, state.Status);
        Assert.Equal(Now.AddSeconds(5), state.ToRow().DueAt);
    }

    [Fact]
    public void An_adapter_response_headers_are_kept_whatever_their_case_and_a_state_own_are_kept_as_they_are()
    {
        var state = DeliveryState.From(Envelope());
        var result = new AttemptResult
        {
            Outcome = AttemptOutcome.Success, StatusCode = 200, Headers = new Dictionary<string, string> { ["Location"] = "/bills/7" },
        };

        state.Apply(DeliveryLifecycle.Decide(state.ToProgress(), new DeliveryEvent.AttemptFinished(result), Rules(), Now, 0).State);
        var stored = state.ResponseHeaders;
        state.Apply(DeliveryLifecycle.Decide(state.ToProgress(), new DeliveryEvent.HandedOver(), Rules(), Now, 0).State);

        Assert.Equal("/bills/7", state.ResponseHeaders!["location"]);
        Assert.Same(stored, state.ResponseHeaders);
    }

    [Fact]
    public void A_new_delivery_attempted_within_the_request_is_stored_due_after_SyncTimeout_plus_RecoveryGrace()
    {
        var state = DeliveryState.From(Envelope(orderingKey: null));

        var decision = DeliveryLifecycle.Decide(state.ToProgress(), new DeliveryEvent.Accepted(AttemptNow: true, Held: false), Rules(), Now, 0);
        state.Apply(decision.State);

        Assert.Equal(DeliveryEffects.Write | DeliveryEffects.Attempt, decision.Effects);
        Assert.Equal(Now.AddSeconds(12), state.ToRow().DueAt);
        Assert.Equal(DeliveryStatus.Pending, state.ToRow().Status);
        Assert.True(state.ContentUnsaved);
    }

    [Fact]
    public void A_notification_never_takes_a_turn_of_an_ordering_key_nor_notifies_in_turn()
    {
        var notification = DeliveryState.From(Envelope(isNotification: true)).ToProgress();
        var message = DeliveryState.From(Envelope()).ToProgress();

        Assert.False(notification.Ordered);
        Assert.False(notification.Notifies);
        Assert.True(message.Ordered);
        Assert.True(message.Notifies);
    }

    [Fact]
    public void The_final_notification_is_a_delivery_of_its_own_whose_id_and_content_follow_from_the_state_it_ends()
    {
        var state = DeliveryState.From(Envelope());
        state.Apply(state.ToProgress() with
        {
            Status = DeliveryStatus.Delivered, Attempts = 3, Generation = 2, CompletedAt = Now, ResponseStatusCode = 200, NotificationPending = true,
        });

        var envelope = FinalNotifications.Envelope(state);
        var again = FinalNotifications.Envelope(state);
        var json = JsonNode.Parse(envelope.Payload)!;

        Assert.Equal("~notify:billing:2:order-1", envelope.MessageId);
        Assert.Equal("app-callbacks", envelope.Destination);
        Assert.True(envelope.IsNotification);
        Assert.Equal(state.TraceParent, envelope.TraceParent);
        Assert.Equal("req-9", envelope.CorrelationId);
        // Handed over again after a crash, it is the same content: stored once, not a conflict.
        Assert.Equal(again.ContentHash, envelope.ContentHash);
        Assert.Equal("order-1", (string?)json["id"]);
        Assert.Equal("Delivered", (string?)json["status"]);
        Assert.Equal(3, (int?)json["attempts"]);
        Assert.Equal(200, (int?)json["response"]!["statusCode"]);
        Assert.Null(json["lastError"]);
    }
}
