namespace LocalLlm.Gguf;

/// <summary>
/// Produces a tensor's values a slice of rows at a time, so <see cref="GgufWriter"/> can stream a large tensor to
/// disk without holding it in memory.
/// </summary>
/// <param name="firstRow">
/// The index of the first row to produce, counting rows of <c>dimensions[0]</c> elements across all the outer
/// dimensions.
/// </param>
/// <param name="destination">
/// Where to write the values: whole rows, row after row; its length is a multiple of the row length.
/// </param>
public delegate void GgufTensorRowSource(long firstRow, Span<float> destination);
