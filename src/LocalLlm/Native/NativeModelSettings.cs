namespace LocalLlm.Native;

/// <summary>What LocalLlm sets when it loads a model; the rest keeps llama.cpp's defaults.</summary>
internal readonly record struct NativeModelSettings(
    int GpuLayerCount,
    int MainGpu,
    int SplitMode,
    bool UseMemoryMap,
    bool LockMemory,
    bool VocabularyOnly,
    bool ValidateTensors,
    bool RepackWeights = true)
{
    internal llama_model_params ToNative()
    {
        llama_model_params parameters = NativeMethods.llama_model_default_params();
        parameters.n_gpu_layers = GpuLayerCount;
        parameters.main_gpu = MainGpu;
        parameters.split_mode = (llama_split_mode)SplitMode;
        parameters.load_mode = (UseMemoryMap, LockMemory) switch
        {
            (true, true) => llama_load_mode.LLAMA_LOAD_MODE_MMAP_MLOCK,
            (true, false) => llama_load_mode.LLAMA_LOAD_MODE_MMAP,
            (false, true) => llama_load_mode.LLAMA_LOAD_MODE_MLOCK,
            (false, false) => llama_load_mode.LLAMA_LOAD_MODE_NONE,
        };
        parameters.vocab_only = VocabularyOnly ? (byte)1 : (byte)0;
        parameters.check_tensors = ValidateTensors ? (byte)1 : (byte)0;
        parameters.use_extra_bufts = RepackWeights ? (byte)1 : (byte)0;
        return parameters;
    }
}
