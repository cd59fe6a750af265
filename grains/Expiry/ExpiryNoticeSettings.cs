namespace Telemetry.Grains.Expiry;

/// <summary>When notices go out and to which shared addresses (docs/expiry.md).</summary>
public sealed record ExpiryNoticeSettings
{
    public const int DefaultFirstNoticeDays = 42;
    public const int DefaultFinalNoticeDays = 14;
    public const int MaxNoticeDays = 366;

    /// <summary>Days before the expiry date of the first notice.</summary>
    public int FirstNoticeDays { get; init; } = DefaultFirstNoticeDays;

    /// <summary>Days before the expiry date of the final notice; fewer than <see cref="FirstNoticeDays"/>.</summary>
    public int FinalNoticeDays { get; init; } = DefaultFinalNoticeDays;

    /// <summary>Gets every notice, with all probes of the stage.</summary>
    public required string ListAddress { get; init; }

    /// <summary>Added to the list mail of the final notice; optional.</summary>
    public string? SheriffAddress { get; init; }

    /// <summary>What is wrong with these settings; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ListAddress))
        {
            errors.Add("The list address is required.");
        }

        if (FirstNoticeDays is < 1 or > MaxNoticeDays)
        {
            errors.Add($"FirstNoticeDays must be 1 to {MaxNoticeDays}, not {FirstNoticeDays}.");
        }

        if (FinalNoticeDays < 0 || FinalNoticeDays >= FirstNoticeDays)
        {
            errors.Add($"FinalNoticeDays must be 0 or more and fewer than FirstNoticeDays ({FirstNoticeDays}), not {FinalNoticeDays}.");
        }

        return errors;
    }

    /// <summary>Days before the expiry date at which <paramref name="stage"/> is due.</summary>
    public int DaysBefore(NoticeStage stage) => stage == NoticeStage.First ? FirstNoticeDays : FinalNoticeDays;
}
