# Images for the silo and the portal: `docker build --target silo .` / `--target portal`.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish silo/Telemetry.Silo.csproj -c Release -o /out/silo \
 && dotnet publish portal/Telemetry.Portal.csproj -c Release -o /out/portal

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS silo
WORKDIR /app
COPY --from=build /out/silo .
EXPOSE 8080 11111 30000
ENTRYPOINT ["dotnet", "Telemetry.Silo.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS portal
WORKDIR /app
COPY --from=build /out/portal .
EXPOSE 5080
ENTRYPOINT ["dotnet", "Telemetry.Portal.dll"]
