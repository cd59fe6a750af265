# Images for the silo and the portal: `docker build --target silo .` / `--target portal .`
# (docker-compose.yml builds both).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore from the project files alone first, so that a change to the sources reuses the packages layer.
COPY Directory.Build.props Directory.Packages.props ./
COPY contracts/Telemetry.Contracts.csproj contracts/
COPY grains/Telemetry.Grains.csproj grains/
COPY silo/Telemetry.Silo.csproj silo/
COPY portal/Telemetry.Portal.csproj portal/
RUN dotnet restore silo/Telemetry.Silo.csproj \
 && dotnet restore portal/Telemetry.Portal.csproj
COPY contracts/ contracts/
COPY grains/ grains/
COPY silo/ silo/
COPY portal/ portal/
RUN dotnet publish silo/Telemetry.Silo.csproj -c Release --no-restore -o /out/silo \
 && dotnet publish portal/Telemetry.Portal.csproj -c Release --no-restore -o /out/portal

# The silo: HTTP API on 8080 (set ASPNETCORE_URLS: without it the silo listens on 127.0.0.1 only),
# Orleans silo-to-silo 11111, client gateway 30000. Runs as the image's unprivileged user.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS silo
WORKDIR /app
COPY --from=build /out/silo .
USER $APP_UID
EXPOSE 8080 11111 30000
ENTRYPOINT ["dotnet", "Telemetry.Silo.dll"]

# The portal (an Orleans client): HTTP on 5080 (set ASPNETCORE_URLS, as for the silo).
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS portal
WORKDIR /app
COPY --from=build /out/portal .
USER $APP_UID
EXPOSE 5080
ENTRYPOINT ["dotnet", "Telemetry.Portal.dll"]
