using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Telemetry.Portal.Extensions;
using Telemetry.Silo;
using Telemetry.Silo.Extensions;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Operations;

/// <summary>
/// <c>docker-compose.yml</c> cannot be run here (no Docker engine), so it is kept correct by reading it
/// against the code: every service of the topology is there and published, every setting names an option
/// the silo or the portal binds (a renamed option or a misspelt key fails here), the values pass the
/// programs' own start-up validation, and the services point at each other on the ports they listen on.
/// </summary>
public sealed class DockerComposeTests
{
    private static readonly string ComposePath = Path.Combine(TestPaths.RepoRoot, "docker-compose.yml");
    private static readonly Lazy<ComposeFile> Compose = new(() => ComposeFile.Parse(File.ReadAllText(ComposePath)));

    // Keys the programs read without an options class: the connection string (TelemetryHosting.ConnectionStringName,
    // and the portal's ClusterExtensions), the host's listen address and environment, the OpenTelemetry service
    // name, and log levels.
    private static readonly string[] HostKeys =
        ["ConnectionStrings:Telemetry", "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "OTEL_SERVICE_NAME"];

    private static readonly string[] HostPrefixes = ["Logging:LogLevel:"];

    /// <summary>What the silo binds: the options classes of the silo and grains assemblies.</summary>
    private static readonly ConfigurationKeys SiloKeys = new(
        [typeof(SiloApp).Assembly, typeof(Telemetry.Grains.Sentry.SentryOptions).Assembly], HostKeys, HostPrefixes);

    /// <summary>
    /// What the portal binds: its options classes, plus the cluster identity it reads key by key
    /// (ClusterExtensions.AddTelemetryCluster).
    /// </summary>
    private static readonly ConfigurationKeys PortalKeys = new(
        [typeof(PortalExtensions).Assembly],
        [.. HostKeys, "Orleans:ClusterId", "Orleans:ServiceId", "Orleans:GatewayPort"],
        HostPrefixes);

    private static ComposeService Postgres => Single(s => s.Image?.StartsWith("postgres:", StringComparison.Ordinal) == true, "PostgreSQL (image postgres:*)");
    private static ComposeService Sqs => Single(s => s.Image?.Contains("fauxqs", StringComparison.Ordinal) == true, "the SQS emulator (fauxqs)");
    private static ComposeService Smtp => Single(s => s.Image?.Contains("maildev", StringComparison.Ordinal) == true, "the SMTP catcher (maildev)");
    private static ComposeService PortalService => Single(s => s.BuildTarget == "portal", "the portal (build target portal)");
    private static List<ComposeService> Silos => Compose.Value.Services.Values.Where(s => s.BuildTarget == "silo").ToList();

    // The emulators' own defaults when their variables are unset (fauxqs README, maildev's options).
    private static int SqsPort => Port(Sqs.Env("FAUXQS_PORT") ?? "4566");
    private static int SmtpPort => Port(Smtp.Env("MAILDEV_SMTP_PORT") ?? "1025");
    private static int SmtpWebPort => Port(Smtp.Env("MAILDEV_WEB_PORT") ?? "1080");

    [Fact]
    public void Every_service_of_the_topology_is_there_and_published_on_the_host()
    {
        Assert.Equal(2, Silos.Count);
        Published(Postgres, 5432);
        Published(Sqs, SqsPort);
        Published(Smtp, SmtpPort);
        Published(Smtp, SmtpWebPort);
        Published(PortalService, ListenPort(PortalService));
        var siloHostPorts = Silos.Select(s => Published(s, ListenPort(s)).Host).ToList();
        Assert.Equal(siloHostPorts.Count, siloHostPorts.Distinct().Count());
    }

    [Fact]
    public void The_Dockerfile_has_the_targets_compose_builds_and_they_run_the_right_program()
    {
        var dockerfile = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "Dockerfile"));
        var stages = Regex.Matches(dockerfile, @"^FROM\s+\S+\s+AS\s+(\S+)\s*$(?<body>(?:\n(?!FROM\s).*)*)", RegexOptions.Multiline | RegexOptions.IgnoreCase)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups["body"].Value, StringComparer.OrdinalIgnoreCase);
        foreach (var service in Compose.Value.Services.Values.Where(s => s.BuildTarget is not null))
        {
            Assert.True(stages.ContainsKey(service.BuildTarget!), $"{service.Name} builds target '{service.BuildTarget}', which the Dockerfile does not have (it has {string.Join(", ", stages.Keys)}).");
        }
        Assert.Contains("\"Telemetry.Silo.dll\"", stages["silo"], StringComparison.Ordinal);
        Assert.Contains("\"Telemetry.Portal.dll\"", stages["portal"], StringComparison.Ordinal);
        // The images only run what the build stage published.
        Assert.Contains("silo/Telemetry.Silo.csproj", stages["build"], StringComparison.Ordinal);
        Assert.Contains("portal/Telemetry.Portal.csproj", stages["build"], StringComparison.Ordinal);
    }

    [Fact]
    public void Every_setting_of_the_silos_and_the_portal_names_an_option_the_program_reads()
    {
        var problems = UnknownSettings(Compose.Value);
        Assert.True(problems.Count == 0, "docker-compose.yml settings the programs do not read:\n" + string.Join("\n", problems));
    }

    [Theory]
    [InlineData("Sentry__SqsServiceUrl", "Sentry__SqsServiceUri", "Sentry:SqsServiceUri")]
    [InlineData("Smtp__Host", "Smpt__Host", "Smpt:Host")]
    [InlineData("Portal__Silo__Url", "Portal__Silo__Uri", "Portal:Silo:Uri")]
    [InlineData("Orleans__SiloPort: \"11111\"", "Orleans__SiloPort: \"eleven\"", "Orleans:SiloPort")]
    public void A_misspelt_key_or_a_value_of_the_wrong_type_is_reported(string written, string misspelt, string reported)
    {
        var text = File.ReadAllText(ComposePath);
        Assert.Contains(written, text, StringComparison.Ordinal);
        var problems = UnknownSettings(ComposeFile.Parse(text.Replace(written, misspelt, StringComparison.Ordinal)));
        Assert.Contains(problems, p => p.Contains(reported, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_silo_settings_pass_the_silos_own_start_up_validation()
    {
        foreach (var silo in Silos)
        {
            // Without the connection string: building with it would migrate the compose network's database.
            // Its form is checked in Silos_use_the_compose_database.
            var args = Arguments(silo).Where(a => !a.StartsWith("--ConnectionStrings:", StringComparison.OrdinalIgnoreCase)).ToArray();
            await using var app = await SiloApp.BuildAsync(args);
            ResolveEveryOption(app.Services, SiloKeys);
        }
    }

    [Fact]
    public async Task The_portal_settings_pass_the_portals_own_start_up_validation()
    {
        var builder = WebApplication.CreateBuilder(Arguments(PortalService));
        builder.AddTelemetryCluster();
        builder.Services.AddTelemetryPortal();
        await using var app = builder.Build();
        ResolveEveryOption(app.Services, PortalKeys);
    }

    [Fact]
    public void Silos_and_portal_use_the_compose_database_and_form_one_cluster()
    {
        var postgres = Postgres;
        foreach (var service in Silos.Append(PortalService))
        {
            var cs = new NpgsqlConnectionStringBuilder(service.Env("ConnectionStrings__Telemetry")
                ?? throw new Xunit.Sdk.XunitException($"{service.Name} has no ConnectionStrings__Telemetry (it would run in memory, alone)."));
            Assert.Equal(postgres.Name, cs.Host);
            Assert.Equal(5432, cs.Port);
            Assert.Equal(postgres.Env("POSTGRES_USER"), cs.Username);
            Assert.Equal(postgres.Env("POSTGRES_PASSWORD"), cs.Password);
            Assert.Equal(postgres.Env("POSTGRES_DB") ?? postgres.Env("POSTGRES_USER"), cs.Database);
        }

        // Silos and portal agree on the cluster identity (or all leave it at the default).
        foreach (var key in new[] { "Orleans__ClusterId", "Orleans__ServiceId" })
        {
            Assert.Single(Silos.Append(PortalService).Select(s => s.Env(key)).Distinct());
        }

        // Each silo advertises its own static address on the compose network, inside its subnet.
        var subnet = System.Net.IPNetwork.Parse(Compose.Value.Subnet ?? throw new Xunit.Sdk.XunitException("the default network has no subnet"));
        var advertised = new List<string>();
        foreach (var silo in Silos)
        {
            var ip = silo.Env("Orleans__AdvertisedIp");
            Assert.True(ip is not null, $"{silo.Name} sets no Orleans__AdvertisedIp: it would advertise 127.0.0.1 to the other silo.");
            Assert.Equal(silo.Ipv4Address, ip);
            Assert.True(subnet.Contains(System.Net.IPAddress.Parse(ip)), $"{silo.Name}: {ip} is outside {subnet}");
            advertised.Add(ip);
        }
        Assert.Equal(advertised.Count, advertised.Distinct().Count());

        // A silo migrates the schema at start: it waits until PostgreSQL accepts connections.
        Assert.All(Silos, s => Assert.Equal("service_healthy", s.DependsOn.GetValueOrDefault(postgres.Name)));
        Assert.NotEmpty(postgres.HealthcheckTest);
    }

    [Fact]
    public void Silos_send_mail_to_the_smtp_catcher_and_use_the_emulators_sqs_and_s3()
    {
        foreach (var silo in Silos)
        {
            Assert.Equal("smtp", silo.Env("Notifications__Mode"), StringComparer.OrdinalIgnoreCase);
            Assert.Equal(Smtp.Name, silo.Env("Smtp__Host"));
            Assert.Equal(SmtpPort, Port(silo.Env("Smtp__Port") ?? "587"));
            Assert.Equal("none", silo.Env("Smtp__StartTls")); // maildev offers no STARTTLS

            var sqs = new Uri(silo.Env("Sentry__SqsServiceUrl") ?? throw new Xunit.Sdk.XunitException($"{silo.Name} has no Sentry__SqsServiceUrl"));
            Assert.Equal(Sqs.Name, sqs.Host);
            Assert.Equal(SqsPort, sqs.Port);
            Assert.True(silo.DependsOn.ContainsKey(Sqs.Name) && silo.DependsOn.ContainsKey(Smtp.Name), $"{silo.Name} should start after {Sqs.Name} and {Smtp.Name}");

            // Raw bodies in the emulator's S3, the same bucket for every silo: a silo's own disk would
            // leave a dead silo's batches unreadable by the others.
            Assert.Equal("s3", silo.Env("Ingest__BodyStore__Kind"));
            var s3 = new Uri(silo.Env("Ingest__BodyStore__ServiceUrl") ?? throw new Xunit.Sdk.XunitException($"{silo.Name} has no Ingest__BodyStore__ServiceUrl"));
            Assert.Equal(Sqs.Name, s3.Host);
            Assert.Equal(SqsPort, s3.Port);
        }
        Assert.Single(Silos.Select(s => s.Env("Ingest__BodyStore__Bucket")).Distinct());
    }

    [Fact]
    public void The_portal_calls_a_silo_and_links_in_mail_reach_the_portal_and_silos_from_the_host()
    {
        var portal = PortalService;
        var siloUrl = new Uri(portal.Env("Portal__Silo__Url") ?? throw new Xunit.Sdk.XunitException("the portal has no Portal__Silo__Url"));
        var target = Silos.SingleOrDefault(s => s.Name == siloUrl.Host);
        Assert.True(target is not null, $"Portal__Silo__Url {siloUrl} names no silo service ({string.Join(", ", Silos.Select(s => s.Name))})");
        Assert.Equal(ListenPort(target!), siloUrl.Port);
        Assert.Equal("service_healthy", portal.DependsOn.GetValueOrDefault(target!.Name));

        var portalOnHost = Published(portal, ListenPort(portal)).Host;
        foreach (var silo in Silos)
        {
            var baseUrl = new Uri(silo.Env("Portal__BaseUrl") ?? throw new Xunit.Sdk.XunitException($"{silo.Name} has no Portal__BaseUrl"));
            Assert.True(baseUrl.IsLoopback, $"{silo.Name}: Portal__BaseUrl {baseUrl} should be the portal as the host's browser reaches it");
            Assert.Equal(portalOnHost, baseUrl.Port);

            var publicUrl = new Uri(silo.Env("Alerts__PublicUrl") ?? throw new Xunit.Sdk.XunitException($"{silo.Name} has no Alerts__PublicUrl (unsubscribe links would name 0.0.0.0)"));
            Assert.True(publicUrl.IsLoopback);
            Assert.Equal(Published(silo, ListenPort(silo)).Host, publicUrl.Port);

            Assert.Equal(portal.Env("Portal__AdminEmails__0"), silo.Env("Portal__AdminEmails__0"));
            Assert.Contains(portal.Env("Portal__Silo__ReadToken"), ReadTokens(silo));
        }

        var dashboard = new Uri(portal.Env("Portal__Admin__DashboardUrl") ?? throw new Xunit.Sdk.XunitException("the portal has no Portal__Admin__DashboardUrl"));
        Assert.Equal("/dashboard/", dashboard.AbsolutePath);
        Assert.Contains(dashboard.Port, Silos.Select(s => Published(s, ListenPort(s)).Host));
    }

    [Fact]
    public void Silos_are_healthy_only_when_ready_and_secrets_come_from_the_environment()
    {
        foreach (var silo in Silos)
        {
            var test = string.Join(" ", silo.HealthcheckTest);
            Assert.Contains($"/dev/tcp/127.0.0.1/{ListenPort(silo)}", test, StringComparison.Ordinal);
            Assert.Contains("GET /health/ready ", test, StringComparison.Ordinal);
        }

        var secrets = Silos.Append(PortalService).Append(Postgres)
            .SelectMany(s => s.RawEnvironment.Select(kv => (Service: s.Name, kv.Key, kv.Value)))
            .Where(e => Regex.IsMatch(e.Key, "Token|Password", RegexOptions.IgnoreCase)
                || e.Key.StartsWith("ConnectionStrings__", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(secrets);
        foreach (var (service, key, raw) in secrets)
        {
            Assert.True(ComposeFile.VariablesIn(raw).Count > 0, $"{service}: {key} is written into the file; take it from a variable (${{NAME:-placeholder}}).");
        }
    }

    [Fact]
    public void The_readme_shows_the_command_and_every_published_port()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        int start = readme.IndexOf("`docker-compose.yml` describes", StringComparison.Ordinal);
        Assert.True(start >= 0, "README: the paragraph on docker-compose.yml is gone");
        var section = readme[start..readme.IndexOf("\n## ", start, StringComparison.Ordinal)];
        Assert.Contains("docker compose up --build", section, StringComparison.Ordinal);
        foreach (var service in Compose.Value.Services.Values)
        {
            foreach (var port in service.Ports.Where(p => p.Host is not null))
            {
                Assert.True(Regex.IsMatch(section, $@"(127\.0\.0\.1:|`){port.Host}\b"), $"README does not show {service.Name}'s host port {port.Host}");
            }
        }
    }

    /// <summary>Each silo's and the portal's settings that no options class (or allowed host key) reads, with the reason.</summary>
    private static List<string> UnknownSettings(ComposeFile compose)
    {
        var problems = new List<string>();
        foreach (var service in compose.Services.Values.Where(s => s.BuildTarget is "silo" or "portal"))
        {
            var keys = service.BuildTarget == "silo" ? SiloKeys : PortalKeys;
            foreach (var (key, value) in service.ConfigurationEntries())
            {
                if (keys.Problem(key, value) is { } problem)
                {
                    problems.Add($"{service.Name}: {problem}");
                }
            }
        }
        return problems;
    }

    /// <summary>The service's environment as command-line arguments (<c>--A:B=value</c>; the listen address as <c>--urls</c>).</summary>
    private static string[] Arguments(ComposeService service) =>
        service.ConfigurationEntries()
            .Select(kv => kv.Key == "ASPNETCORE_URLS" ? $"--urls={kv.Value}" : $"--{kv.Key}={kv.Value}")
            .Append("--Logging:LogLevel:Default=Warning")
            .ToArray();

    /// <summary>Reads every options class, which runs the validation the program runs at start.</summary>
    private static void ResolveEveryOption(IServiceProvider services, ConfigurationKeys keys)
    {
        Assert.NotEmpty(keys.Sections);
        foreach (var (_, type) in keys.Sections)
        {
            var options = services.GetRequiredService(typeof(IOptions<>).MakeGenericType(type));
            try
            {
                _ = options.GetType().GetProperty(nameof(IOptions<object>.Value))!.GetValue(options);
            }
            catch (TargetInvocationException e) when (e.InnerException is OptionsValidationException invalid)
            {
                Assert.Fail($"{type.Name}: {invalid.Message}");
            }
        }
    }

    private static IEnumerable<string?> ReadTokens(ComposeService silo) =>
        silo.Environment.Where(kv => kv.Key.StartsWith("Aggregates__ReadTokens__", StringComparison.OrdinalIgnoreCase)).Select(kv => (string?)kv.Value);

    /// <summary>The container port a .NET service listens on, from its ASPNETCORE_URLS.</summary>
    private static int ListenPort(ComposeService service)
    {
        var urls = service.Env("ASPNETCORE_URLS") ?? throw new Xunit.Sdk.XunitException(
            $"{service.Name} sets no ASPNETCORE_URLS: the program would listen on 127.0.0.1 inside its container, out of reach.");
        var url = new Uri(urls.Split(';')[0].Replace("0.0.0.0", "any", StringComparison.Ordinal).Replace("+", "any", StringComparison.Ordinal).Replace("*", "any", StringComparison.Ordinal));
        Assert.Equal("any", url.Host); // every interface of the container, or no other container reaches it
        return url.Port;
    }

    private static PublishedPort Published(ComposeService service, int containerPort)
    {
        var port = service.Ports.FirstOrDefault(p => p.Container == containerPort);
        Assert.True(port?.Host is not null, $"{service.Name} does not publish its port {containerPort} on the host.");
        return port!;
    }

    private static ComposeService Single(Func<ComposeService, bool> match, string what)
    {
        var found = Compose.Value.Services.Values.Where(match).ToList();
        Assert.True(found.Count == 1, $"docker-compose.yml should have one service for {what}, has {found.Count}.");
        return found[0];
    }

    private static int Port(string text) => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}
