using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Relay.FilterBench;

// dotnet run -c Release --project bench/Relay.FilterBench [-- --filter '*Json*']
// In process (no child build): the code measured is pure, and the box is shared. Two jobs: wall-clock time, and the
// benchmark thread's CPU time (ThreadCpuClock), which a loaded box inflates far less.
var job = Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15);
var config = DefaultConfig.Instance
    .AddJob(job.WithId("WallClock"))
    .AddJob(job.WithClock(ThreadCpuClock.Instance).WithId("ThreadCpu"))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(TopicFilterBenchmarks).Assembly).Run(args, config);
