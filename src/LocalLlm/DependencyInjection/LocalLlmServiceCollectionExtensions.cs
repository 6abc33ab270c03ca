using LocalLlm;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers local GGUF models: their <see cref="IChatClient"/>, their <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>
/// and the <see cref="LlamaModel"/> itself.
/// </summary>
public static class LocalLlmServiceCollectionExtensions
{
    /// <summary>
    /// Registers a model: <see cref="IChatClient"/> (a <see cref="LlamaChatClient"/>), <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c>
    /// (a <see cref="LlamaEmbeddingGenerator"/>), <see cref="LlamaReranker"/> (for a reranking model) and <see cref="LlamaModel"/>, loaded
    /// lazily on first use or while the host starts when <see cref="LocalLlmOptions.WarmUp"/> is set, and disposed with
    /// the container. Options are validated when the host starts.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the model path and other options.</param>
    /// <returns>A builder for further registrations.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static LocalLlmBuilder AddLocalLlm(this IServiceCollection services, Action<LocalLlmOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(services, serviceKey: null, builder => builder.Configure(configure));
    }

    /// <summary>Registers a model whose options are bound from configuration (for example the <c>LocalLlm</c> section).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding <see cref="LocalLlmOptions"/>' properties (<c>ModelPath</c>, <c>ContextSize</c>, …).</param>
    /// <returns>A builder for further registrations.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static LocalLlmBuilder AddLocalLlm(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, serviceKey: null, builder => builder.Bind(configuration));
    }

    /// <summary>Registers one of several models under a key: resolve it with <c>[FromKeyedServices(key)] IChatClient</c>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key; its string form names the options instance.</param>
    /// <param name="configure">Sets the model path and other options.</param>
    /// <returns>A builder for further registrations.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static LocalLlmBuilder AddKeyedLocalLlm(this IServiceCollection services, object serviceKey, Action<LocalLlmOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(services, serviceKey, builder => builder.Configure(configure));
    }

    /// <summary>Registers one of several models under a key, with options bound from configuration.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key; its string form names the options instance.</param>
    /// <param name="configuration">The section holding <see cref="LocalLlmOptions"/>' properties.</param>
    /// <returns>A builder for further registrations.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static LocalLlmBuilder AddKeyedLocalLlm(this IServiceCollection services, object serviceKey, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, serviceKey, builder => builder.Bind(configuration));
    }

    private static LocalLlmBuilder Register(IServiceCollection services, object? serviceKey, Action<OptionsBuilder<LocalLlmOptions>> configure)
    {
        string optionsName = serviceKey?.ToString() ?? Options.Options.DefaultName;
        configure(services.AddOptions<LocalLlmOptions>(optionsName).ValidateOnStart());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LocalLlmOptions>, LocalLlmOptionsValidator>());

        LocalLlmModelHost CreateHost(IServiceProvider provider) =>
            new(provider.GetRequiredService<IOptionsMonitor<LocalLlmOptions>>().Get(optionsName), provider.GetService<ILoggerFactory>());

        if (serviceKey is null)
        {
            services.AddSingleton(CreateHost);
            services.AddSingleton(provider => provider.GetRequiredService<LocalLlmModelHost>().GetModel());
            services.AddSingleton<IChatClient>(provider => CreateChatClient(provider.GetRequiredService<LocalLlmModelHost>()));
            services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(provider => CreateEmbeddingGenerator(provider.GetRequiredService<LocalLlmModelHost>()));
            services.AddSingleton(provider => CreateReranker(provider.GetRequiredService<LocalLlmModelHost>()));
            services.AddSingleton<IHostedService>(provider => new LocalLlmWarmUpService(provider.GetRequiredService<LocalLlmModelHost>()));
        }
        else
        {
            services.AddKeyedSingleton(serviceKey, (provider, _) => CreateHost(provider));
            services.AddKeyedSingleton(serviceKey, (provider, key) => provider.GetRequiredKeyedService<LocalLlmModelHost>(key).GetModel());
            services.AddKeyedSingleton<IChatClient>(serviceKey, (provider, key) => CreateChatClient(provider.GetRequiredKeyedService<LocalLlmModelHost>(key)));
            services.AddKeyedSingleton<IEmbeddingGenerator<string, Embedding<float>>>(serviceKey, (provider, key) => CreateEmbeddingGenerator(provider.GetRequiredKeyedService<LocalLlmModelHost>(key)));
            services.AddKeyedSingleton(serviceKey, (provider, key) => CreateReranker(provider.GetRequiredKeyedService<LocalLlmModelHost>(key)));
            services.AddSingleton<IHostedService>(provider => new LocalLlmWarmUpService(provider.GetRequiredKeyedService<LocalLlmModelHost>(serviceKey)));
        }

        return new LocalLlmBuilder(services, serviceKey);
    }

    private static LlamaChatClient CreateChatClient(LocalLlmModelHost host) =>
        new(host.GetModelAsync, host.Options.ToChatClientOptions(), host.LoggerFactory, host.Options.ModelPath);

    private static LlamaEmbeddingGenerator CreateEmbeddingGenerator(LocalLlmModelHost host) =>
        new(host.GetModelAsync, host.Options.ToEmbeddingOptions(), host.Options.ModelPath);

    private static LlamaReranker CreateReranker(LocalLlmModelHost host) =>
        new(host.GetModelAsync, new LlamaRerankerOptions { ContextSize = host.Options.ContextSize, ThreadCount = host.Options.ThreadCount }, host.Options.ModelPath);
}
