namespace Telemetry.Grains.Aggregates;

/// <summary>
/// The grain storage serializer of the silo's ADO.NET storage: <see cref="AggregateState"/> in its compact
/// form (<see cref="AggregateStateCodec"/>), everything else with the Orleans serializer. Aggregate states
/// are stored in tables of their own now (silo/Storage/PostgresAggregateStorage.cs); this reads the ones
/// stored in <c>orleansstorage</c> before, in the compact form or, older still, the Orleans form, until
/// their next write moves them.
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
