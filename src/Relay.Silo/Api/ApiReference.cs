using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Relay.Silo.Security;
using Scalar.AspNetCore;

namespace Relay.Silo.Api;

/// <summary>
/// The OpenAPI document of the HTTP API (<c>/openapi/v1.json</c>), generated from the endpoints and their metadata, and
/// Scalar's reference page over it (<c>/scalar</c>). Both are for operators, as the portal and the dashboard: an operator
/// key, or a browser signed in to the portal. The words for users are in docs/API.md; this is the machine-readable half.
/// </summary>
internal static class ApiReference
{
    public const string DocumentName = "v1";
    public const string DocumentPrefix = "/openapi";
    public const string DocumentPattern = DocumentPrefix + "/{documentName}.json";
    public const string PagePath = "/scalar";

    public const string MessagesTag = "Messages";
    public const string OperatingTag = "Operating";
    public const string DestinationsTag = "Destinations";
    public const string HealthTag = "Health and metrics";
    public const string SamplesTag = "Samples";

    private const string ApiKeyScheme = "ApiKey";
    private const string BearerScheme = "Bearer";
    private const string ProblemJson = "application/problem+json";

    /// <summary>Browser pages, described in docs/OPERATIONS.md rather than here.</summary>
    internal static bool IsBrowserPage(string relativePath) =>
        relativePath.StartsWith("portal", StringComparison.OrdinalIgnoreCase)
        || relativePath.StartsWith("dashboard", StringComparison.OrdinalIgnoreCase);

    public static IServiceCollection AddRelayApiReference(this IServiceCollection services)
    {
        services.AddOpenApi(DocumentName, openApi =>
        {
            openApi.ShouldInclude = description => !IsBrowserPage(description.RelativePath ?? "");
            openApi.AddDocumentTransformer(DescribeDocumentAsync);
            openApi.AddOperationTransformer(DescribeAccessAsync);
            openApi.AddSchemaTransformer(NumbersAsNumbers);
        });
        return services;
    }

    /// <summary>Maps the document and the page, for operators (a browser by its portal sign-in: it is a browser path).</summary>
    public static WebApplication MapRelayApiReference(this WebApplication app)
    {
        app.MapOpenApi(DocumentPattern).RequireAuthorization(RelayAuth.PortalPolicy);
        app.MapScalarApiReference(PagePath, scalar => scalar
                .WithTitle("Relay HTTP API")
                .WithOpenApiRoutePattern(DocumentPattern)
                // Nothing from the internet, nothing reported or shared anywhere: the page talks to this silo only.
                // (Scalar's developer toolbar offers to share the document and deploy it on Scalar's service.)
                .DisableDefaultFonts()
                .DisableTelemetry()
                .DisableAgent()
                .DisableMcp()
                .HideDeveloperTools()
                .AddPreferredSecuritySchemes([ApiKeyScheme]))
            .RequireAuthorization(RelayAuth.PortalPolicy);
        return app;
    }

    /// <summary>
    /// Documents a JSON body the handler reads itself (<see cref="MessageEndpoints.ReadJsonAsync{T}"/>: its own
    /// problems for a body that is not JSON, and 415 for another media type).
    /// </summary>
    public static RouteHandlerBuilder AcceptsJsonBody<T>(this RouteHandlerBuilder builder, bool required) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken);
            // Once per document (it is made afresh for each request), however many operations take the type.
            if (context.Document is { } document && document.Components?.Schemas?.ContainsKey(typeof(T).Name) != true)
            {
                document.AddComponent(typeof(T).Name, schema);
            }

            operation.RequestBody = new OpenApiRequestBody
            {
                Required = required,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new()
                    {
                        Schema = context.Document is null ? schema : new OpenApiSchemaReference(typeof(T).Name, context.Document),
                    },
                },
            };
        });

    /// <summary>Documents a query parameter the handler reads itself.</summary>
    public static RouteHandlerBuilder WithQueryParameter(this RouteHandlerBuilder builder, string name, string description) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Query,
                Required = false,
                Description = description,
                Schema = new OpenApiSchema { Type = name == "limit" ? JsonSchemaType.Integer : JsonSchemaType.String },
            });
            return Task.CompletedTask;
        });

    private static Task DescribeDocumentAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Relay HTTP API",
            Version = DocumentName,
            Description = "A durable message router: applications send messages to named destinations or topics; Relay stores each "
                + "durably, attempts it at once, retries it per its contract, and keeps an audit of every attempt. "
                + "Errors are application/problem+json (RFC 9457) with a title a person can act on; bad input changes nothing. "
                + "The same operations are served over SOAP 1.1 at /Messaging.svc (WSDL at /Messaging.svc?wsdl). "
                + "The user's guide is docs/API.md in Relay's repository.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthenticationHandler.HeaderName,
            Description = "A sender or operator key (Relay:Security:SenderKeys, OperatorKeys). Without any key configured, no key is asked for.",
        };
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The same key as 'Authorization: Bearer <key>'.",
        };

        // The Prometheus exporter maps a plain request delegate, which carries no description of its own.
        var metrics = new OpenApiOperation
        {
            OperationId = "GetMetrics",
            Tags = new HashSet<OpenApiTagReference> { new(HealthTag, document) },
            Summary = "Prometheus text: Relay's, Orleans's, ASP.NET Core's and the runtime's metrics",
            Description = "The metrics are listed in docs/OPERATIONS.md, \"Metrics\".",
            Responses = new OpenApiResponses
            {
                ["200"] = new OpenApiResponse
                {
                    Description = "The Prometheus text exposition format.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["text/plain"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                    },
                },
            },
        };
        AddAccess(metrics, document, RelayRole.Operator);
        AddTooMany(metrics, document);
        metrics.Description += " Also open to the scrape key (Relay:Metrics:ScrapeKey), which reads nothing else, and to callers from "
            + "Relay:Metrics:AllowedNetworks without a key.";
        document.Paths ??= [];
        document.Paths["/metrics"] = new OpenApiPathItem
        {
            Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = metrics },
        };
        return Task.CompletedTask;
    }

    /// <summary>Who may call an operation, from its authorization metadata: the least role, the keys, 401 and 403.</summary>
    private static Task DescribeAccessAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        AddTooMany(operation, context.Document);
        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            return Task.CompletedTask;
        }

        // No policy named: the fallback policy, an operator's.
        var sender = metadata.OfType<IAuthorizeData>().Any(a => a.Policy == RelayAuth.SenderPolicy);
        AddAccess(operation, context.Document, sender ? RelayRole.Sender : RelayRole.Operator);
        return Task.CompletedTask;
    }

    /// <summary>Every operation may meet the per-client limits and the failed-authentication throttle.</summary>
    private static void AddTooMany(OpenApiOperation operation, OpenApiDocument? document)
    {
        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("429", Problem(document,
            "Too many requests or connections from this client (Relay:Limits:PerClient), or too many failed authentications "
            + "from this address (Relay:Security:FailedAuth); with Retry-After. Nothing was done."));
    }

    private static void AddAccess(OpenApiOperation operation, OpenApiDocument? document, RelayRole role)
    {
        operation.Description = (operation.Description is null ? "" : operation.Description + "\n\n")
            + (role == RelayRole.Sender
                ? "Needs a sender or operator key when keys are configured."
                : "Needs an operator key when keys are configured (a sender key gets 403).");
        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, document)] = [] });
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] });
        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("401", Problem(document, "No key, or a key that is not valid (with WWW-Authenticate: Bearer)."));
        if (role == RelayRole.Operator)
        {
            operation.Responses.TryAdd("403", Problem(document, "A sender key: this needs an operator key."));
        }
    }

    /// <summary>
    /// The web defaults read a number from a string too, which the generator shows as "integer or string" with a
    /// pattern; Relay always writes numbers, and a client should send them.
    /// </summary>
    private static Task NumbersAsNumbers(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Type is { } type && (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number)) && type.HasFlag(JsonSchemaType.String))
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }

        return Task.CompletedTask;
    }

    private static OpenApiResponse Problem(OpenApiDocument? document, string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            [ProblemJson] = new() { Schema = new OpenApiSchemaReference(nameof(Microsoft.AspNetCore.Mvc.ProblemDetails), document) },
        },
    };
}
