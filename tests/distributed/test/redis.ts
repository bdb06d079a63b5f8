/** A real redis-server for one test file: loopback only, a password, nothing persisted. */
import { randomBytes } from "node:crypto";
import { freePort, type Proc, start } from "./processes.js";

export interface RedisServer {
  url: string;
  port: number;
  password: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const proc: Proc = start("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--requirepass",
    password,
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
  ]);
  await proc.line(/Ready to accept connections/);
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    port,
    password,
    async stop() {
      await proc.stop("SIGTERM");
    },
  };
}
