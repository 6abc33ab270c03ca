namespace LocalLlm;

/// <summary>An RPC worker (llama.cpp's <c>rpc-server</c>, or <see cref="LlamaRpcWorker.Run"/>) could not be used.</summary>
public sealed class LlamaRpcWorkerException : LlamaException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="endpoint">The worker's <c>host:port</c>.</param>
    /// <param name="failure">Why it could not be used.</param>
    /// <param name="message">The reason in words, naming the endpoint.</param>
    /// <param name="innerException">The network error behind it, if any.</param>
    public LlamaRpcWorkerException(string endpoint, LlamaRpcWorkerFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Endpoint = endpoint;
        Failure = failure;
    }

    /// <summary>Gets the worker's <c>host:port</c>.</summary>
    public string Endpoint { get; }

    /// <summary>Gets why the worker could not be used.</summary>
    public LlamaRpcWorkerFailure Failure { get; }
}
