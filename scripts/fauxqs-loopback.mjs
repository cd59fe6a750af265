// Starts the fauxqs SQS and S3 emulator (npm package fauxqs, Node >= 22.5) listening on 127.0.0.1 only:
// fauxqs itself always listens on every interface, so the listen call is narrowed here first.
// Environment: FAUXQS_APP = path of fauxqs' dist/app.js, FAUXQS_PORT = the port (default 4566),
// FAUXQS_S3_DIR = a folder for S3 objects (default: in memory).
// Used by the test harness (tests/Telemetry.Tests/Infrastructure/FauxqsServer.cs) and the benchmark.
import net from "node:net";
import { pathToFileURL } from "node:url";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[0] !== null && typeof args[0] === "object") {
    args[0] = { ...args[0], host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};

const app = process.env.FAUXQS_APP;
if (!app) {
  console.error("FAUXQS_APP must name fauxqs' dist/app.js");
  process.exit(2);
}
const { startFauxqs } = await import(pathToFileURL(app).href);
// FAUXQS_S3_DIR: keep S3 objects as files there instead of in memory (the ingest benchmark stores gigabytes).
const options = { port: Number(process.env.FAUXQS_PORT ?? "4566"), logger: false };
if (process.env.FAUXQS_S3_DIR) {
  options.s3StorageDir = process.env.FAUXQS_S3_DIR;
}
const server = await startFauxqs(options);
console.log(`fauxqs listening on ${server.address}`);
