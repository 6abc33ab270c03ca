using System.Collections;
using System.Globalization;

namespace LocalLlm;

/// <summary>
/// A read-only, key-ordered copy of a dictionary that compares by its entries, so that
/// <see cref="LlamaSamplingOptions"/> (a record) keeps value equality for its logit biases.
/// </summary>
internal sealed class EquatableDictionary : IReadOnlyDictionary<int, float>, IEquatable<EquatableDictionary>
{
    public static readonly EquatableDictionary Empty = new(new SortedDictionary<int, float>());

    private readonly SortedDictionary<int, float> _entries;

    public EquatableDictionary(IEnumerable<KeyValuePair<int, float>> entries)
    {
        _entries = [];
        foreach (KeyValuePair<int, float> entry in entries)
        {
            _entries[entry.Key] = entry.Value;
        }
    }

    public int Count => _entries.Count;

    public IEnumerable<int> Keys => _entries.Keys;

    public IEnumerable<float> Values => _entries.Values;

    public float this[int key] => _entries[key];

    public bool ContainsKey(int key) => _entries.ContainsKey(key);

    public bool TryGetValue(int key, out float value) => _entries.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<int, float>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Returns a copy with <paramref name="key"/> set to <paramref name="value"/>.</summary>
    public EquatableDictionary With(int key, float value)
    {
        return new EquatableDictionary(_entries.Append(new KeyValuePair<int, float>(key, value)));
    }

    public bool Equals(EquatableDictionary? other) => other is not null && _entries.SequenceEqual(other._entries);

    public override bool Equals(object? obj) => Equals(obj as EquatableDictionary);

    public override int GetHashCode()
    {
        HashCode hash = default;
        foreach (KeyValuePair<int, float> entry in _entries)
        {
            hash.Add(entry.Key);
            hash.Add(entry.Value);
        }

        return hash.ToHashCode();
    }

    public override string ToString() =>
        "{" + string.Join(", ", _entries.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key}: {e.Value}"))) + "}";
}
