using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace LocalLlm.Server;

/// <summary>
/// The one model a server answers for: its chat client (whose context also serves legacy completions), its embedding
/// generator, the id clients name it by, and whether it has loaded (for <c>/health</c>).
/// </summary>
internal sealed class ServedModel
{
    private readonly IServiceProvider _services;
    private readonly object? _serviceKey;
    private Exception? _loadFailure;
    private volatile bool _loaded;

    public ServedModel(IServiceProvider services, object? serviceKey)
    {
        _services = services;
        _serviceKey = serviceKey;
        IChatClient chat = serviceKey is null ? services.GetRequiredService<IChatClient>() : services.GetRequiredKeyedService<IChatClient>(serviceKey);
        Chat = chat.GetService<LlamaChatClient>()
            ?? throw new InvalidOperationException("The registered IChatClient is not a LocalLlm chat client (nor wraps one); register the model with AddLocalLlm.");
        Id = Chat.GetService<ChatClientMetadata>()?.DefaultModelId ?? "local";
        Created = DateTimeOffset.UtcNow;
    }

    public LlamaChatClient Chat { get; }

    public string Id { get; }

    public DateTimeOffset Created { get; }

    public bool IsLoaded => _loaded;

    public Exception? LoadFailure => Volatile.Read(ref _loadFailure);

    public IEmbeddingGenerator<string, Embedding<float>> Embeddings => _serviceKey is null
        ? _services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>()
        : _services.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(_serviceKey);

    /// <summary>Loads the model and the chat client's context; <c>/health</c> answers 503 until this has finished.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Chat.GetModelAsync(cancellationToken).ConfigureAwait(false);
            _loaded = true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Volatile.Write(ref _loadFailure, ex);
            throw;
        }
    }

    /// <summary>Gets the loaded model, waiting for the load when a request arrives first.</summary>
    public ValueTask<LlamaModel> GetModelAsync(CancellationToken cancellationToken) => Chat.GetModelAsync(cancellationToken);
}
