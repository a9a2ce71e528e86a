using System.Reflection;

namespace Relay.Silo.Telemetry;

/// <summary>
/// Hands a grain call to the Orleans Dashboard's profiling filter only while its profiler is on (someone has the
/// dashboard open, and for a minute after). The dashboard's filter is an async method that awaits every grain call,
/// watched or not: a call that completed later cost a state machine, a continuation task and its properties on the
/// activation's scheduler, about 0.4 KB per message of two grain calls (issue 14). While the profiler is off this filter
/// returns the call's own task; while it is on, the dashboard's filter times the call as before.
/// </summary>
/// <remarks>
/// The dashboard's filter and its profiler are internal types: they are found by name once, at start-up, and
/// <see cref="Replace"/> throws when they are not there, so that a dashboard upgrade that renames them fails the silo's
/// start (and the tests) instead of silently timing each call twice or never.
/// </remarks>
internal sealed class DashboardProfilingFilter(IIncomingGrainCallFilter dashboards, Func<bool> profiling) : IIncomingGrainCallFilter
{
    private const string FilterType = "Orleans.Dashboard.Implementation.GrainProfilerFilter";
    private const string ProfilerType = "Orleans.Dashboard.Metrics.IGrainProfiler";

    public Task Invoke(IIncomingGrainCallContext context) => profiling() ? dashboards.Invoke(context) : context.Invoke();

    /// <summary>Puts this filter in place of the dashboard's, which <c>AddDashboard</c> registered.</summary>
    public static void Replace(IServiceCollection services)
    {
        var theirs = services.Where(d => d.ServiceType == typeof(IIncomingGrainCallFilter) && d.ImplementationType?.FullName == FilterType).ToList();
        if (theirs is not [{ ImplementationType: { } filterType } registration])
        {
            throw new InvalidOperationException($"Expected the Orleans Dashboard's {FilterType} once among the grain call filters, found it {theirs.Count} times.");
        }

        var profilerType = filterType.Assembly.GetType(ProfilerType, throwOnError: false);
        var isEnabled = profilerType?.GetProperty("IsEnabled", BindingFlags.Public | BindingFlags.Instance)?.GetMethod;
        if (profilerType is null || isEnabled is null || isEnabled.ReturnType != typeof(bool))
        {
            throw new InvalidOperationException($"Expected the Orleans Dashboard's {ProfilerType} with a public IsEnabled.");
        }

        services.Remove(registration);
        services.AddSingleton<IIncomingGrainCallFilter>(provider => new DashboardProfilingFilter(
            (IIncomingGrainCallFilter)ActivatorUtilities.CreateInstance(provider, filterType),
            isEnabled.CreateDelegate<Func<bool>>(provider.GetRequiredService(profilerType))));
    }
}
