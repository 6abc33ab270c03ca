using System.Buffers.Binary;
using LocalLlm.Native;

namespace LocalLlm;

// Saving and restoring what a session has evaluated: llama.cpp's context state (KV cache, logits) plus the
// token list that prefix reuse compares new prompts with.
public sealed partial class LlamaSession
{
    private const uint StateMagic = 0x53534C4C; // "LLSS"
    private const int StateHeaderSize = 12;      // magic, version, token count

    /// <summary>Captures the session's state (its KV cache and evaluated tokens) as bytes.</summary>
    /// <returns>The state; restore it with <see cref="LoadState(ReadOnlySpan{byte})"/> into a session over the same model and context size.</returns>
    /// <exception cref="InvalidOperationException">The session is running an operation.</exception>
    /// <exception cref="ObjectDisposedException">The session has been disposed.</exception>
    public byte[] SaveState()
    {
        using Exclusive exclusive = EnterExclusive();
        int[] tokens = _engine.HeldTokens();
        long nativeSize = _engine.Context.StateSize;
        int headerAndTokens = StateHeaderSize + (tokens.Length * sizeof(int));
        byte[] state = new byte[checked(headerAndTokens + (int)nativeSize)];
        BinaryPrimitives.WriteUInt32LittleEndian(state, StateMagic);
        BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(4), 1);
        BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(8), tokens.Length);
        for (int i = 0; i < tokens.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(StateHeaderSize + (i * sizeof(int))), tokens[i]);
        }

        int written = _engine.Context.CopyState(state.AsSpan(headerAndTokens));
        return state[..(headerAndTokens + written)];
    }

    /// <summary>Restores a state captured by <see cref="SaveState()"/>, replacing what the session holds.</summary>
    /// <param name="state">The saved state.</param>
    /// <exception cref="ArgumentException"><paramref name="state"/> is not a LocalLlm session state, or llama.cpp rejected it (another model or a smaller context).</exception>
    /// <exception cref="InvalidOperationException">The session is running an operation.</exception>
    /// <exception cref="ObjectDisposedException">The session has been disposed.</exception>
    public void LoadState(ReadOnlySpan<byte> state)
    {
        using Exclusive exclusive = EnterExclusive();
        if (state.Length < StateHeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(state) != StateMagic)
        {
            throw new ArgumentException("The bytes are not a LocalLlm session state (saved by LlamaSession.SaveState).", nameof(state));
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(state[8..]);
        if (count < 0 || count > ContextSize || StateHeaderSize + ((long)count * sizeof(int)) > state.Length)
        {
            throw new ArgumentException($"The session state holds {count} tokens, which does not fit this session's {ContextSize}-token context.", nameof(state));
        }

        var tokens = new int[count];
        for (int i = 0; i < count; i++)
        {
            tokens[i] = BinaryPrimitives.ReadInt32LittleEndian(state[(StateHeaderSize + (i * sizeof(int)))..]);
        }

        ReadOnlySpan<byte> native = state[(StateHeaderSize + (count * sizeof(int)))..];
        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        if (!_engine.Context.RestoreState(native))
        {
            _engine.ClearMemory();
            throw new ArgumentException($"llama.cpp rejected the session state: {errors.LastLine ?? "no reason given"}.", nameof(state));
        }

        _engine.RestoredHolding(tokens);
    }

    /// <summary>Saves the session's state to a file (llama.cpp's session file format, with the evaluated tokens).</summary>
    /// <param name="path">Where to write the state.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">llama.cpp could not write the file.</exception>
    /// <exception cref="InvalidOperationException">The session is running an operation.</exception>
    public void SaveState(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using Exclusive exclusive = EnterExclusive();
        string fullPath = Path.GetFullPath(path);
        int[] tokens = _engine.HeldTokens();
        if (!_engine.Context.SaveStateFile(fullPath, tokens))
        {
            throw new IOException($"Could not save the session state to '{fullPath}'.");
        }
    }

    /// <summary>Restores a state saved by <see cref="SaveState(string)"/>, replacing what the session holds.</summary>
    /// <param name="path">The state file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">llama.cpp rejected the file (not a session file, another model, or a smaller context).</exception>
    /// <exception cref="InvalidOperationException">The session is running an operation.</exception>
    public void LoadState(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"Cannot load session state '{fullPath}': the file does not exist.", fullPath);
        }

        using Exclusive exclusive = EnterExclusive();
        var tokens = new int[ContextSize];
        using NativeLog.ErrorCapture errors = NativeLog.CaptureErrors();
        if (!_engine.Context.LoadStateFile(fullPath, tokens, out int count))
        {
            _engine.ClearMemory();
            throw new ArgumentException($"llama.cpp rejected the session state file '{fullPath}': {errors.LastLine ?? "no reason given"}.", nameof(path));
        }

        _engine.RestoredHolding(tokens.AsSpan(0, count).ToArray());
    }
}
