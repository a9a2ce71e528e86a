using Relay.Silo.Hosting;

// A Relay silo: the Orleans silo that holds the deliveries, and the HTTP API in front of it.
var builder = WebApplication.CreateBuilder(args);
try
{
    builder.AddRelay();
}
catch (RelayConfigurationException ex)
{
    foreach (var problem in ex.Problems)
    {
        Console.Error.WriteLine($"Configuration error: {problem}");
    }

    return 2;
}

var app = builder.Build();
app.MapRelay();
await app.RunAsync();
return 0;
