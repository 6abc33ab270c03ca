using Microsoft.Extensions.DependencyInjection;

namespace LocalLlm;

/// <summary>Returned by <c>AddLocalLlm</c> for chaining further registrations.</summary>
public sealed class LocalLlmBuilder
{
    internal LocalLlmBuilder(IServiceCollection services, object? serviceKey)
    {
        Services = services;
        ServiceKey = serviceKey;
    }

    /// <summary>Gets the service collection the model was registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Gets the key the model's services are registered under, or null for the unkeyed registration.</summary>
    public object? ServiceKey { get; }
}
