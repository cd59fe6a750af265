namespace Telemetry.Grains;

/// <summary>
/// The start-up rule of the evaluator grains' reminders (crash-rate alerts, Sentry rules): every silo calls
/// <c>Start</c>, and registering again would restart the period (each silo start would push the next tick
/// back), so a reminder is (re)registered only when missing or when its configured period changed.
/// </summary>
public static class PeriodicReminder
{
    /// <summary>
    /// Registers <paramref name="name"/> every <paramref name="minutes"/> unless it exists with the period
    /// <paramref name="registeredMinutes"/> already; true when it registered (the caller then records the period).
    /// </summary>
    public static async Task<bool> EnsureAsync(Grain grain, string name, int minutes, int registeredMinutes)
    {
        if (registeredMinutes == minutes && await grain.GetReminder(name) is not null)
        {
            return false;
        }
        var period = TimeSpan.FromMinutes(minutes);
        await grain.RegisterOrUpdateReminder(name, period, period);
        return true;
    }
}
