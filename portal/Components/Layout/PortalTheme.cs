using MudBlazor;

namespace Telemetry.Portal.Components.Layout;

/// <summary>The portal's MudBlazor theme (light and dark palettes).</summary>
public static class PortalTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#3f51b5",
            AppbarBackground = "#3f51b5",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#7e8ce0",
        },
    };
}
