namespace Telemetry.Grains.Aggregates;

/// <summary>
/// The grain storage serializer of the silo: <see cref="AggregateState"/> in its compact form
/// (<see cref="AggregateStateCodec"/>), everything else with the Orleans serializer. Aggregate states
/// stored by the Orleans serializer before are still read, and are rewritten compact on their next write.
/// </summary>
public sealed class TelemetryGrainStorageSerializer(Orleans.Storage.IGrainStorageSerializer inner) : Orleans.Storage.IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) =>
        input is AggregateState state ? new BinaryData(AggregateStateCodec.Write(state)) : inner.Serialize(input);

    public T? Deserialize<T>(BinaryData input)
    {
        var data = input.ToMemory().Span;
        if (typeof(T) == typeof(AggregateState) && AggregateStateCodec.IsCompact(data))
        {
            return (T)(object)AggregateStateCodec.Read(data);
        }
        return inner.Deserialize<T>(input);
    }
}
