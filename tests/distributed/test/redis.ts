/** A real redis-server for one test file: loopback only, a password, persisted only when asked. */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { freePort, type Proc, start, tempDir } from "./processes.js";

export interface RedisServer {
  url: string;
  port: number;
  password: string;
  /** SIGKILL: no shutdown save, as when the machine loses power. */
  kill9(): Promise<void>;
  /** Starts it again on the same port, password and data folder (empty unless it persists). */
  restart(): Promise<void>;
  flushall(): Promise<void>;
  stop(): Promise<void>;
}

/** `appendonly`: every write to an append-only file, fsynced, so a kill -9 loses nothing. */
export async function startRedis(options: { appendonly?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const dir = tempDir("nabla-redis-");
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--requirepass",
    password,
    "--dir",
    dir,
    "--save",
    "",
    ...(options.appendonly === true
      ? ["--appendonly", "yes", "--appendfsync", "always"]
      : ["--appendonly", "no"]),
    "--daemonize",
    "no",
  ];
  let proc: Proc;
  const launch = async () => {
    proc = start("redis-server", args);
    await proc.line(/Ready to accept connections/);
  };
  await launch();
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    port,
    password,
    async kill9() {
      await proc.stop("SIGKILL");
    },
    restart: launch,
    async flushall() {
      const client = new Redis({ host: "127.0.0.1", port, password });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    async stop() {
      await proc.stop("SIGTERM");
    },
  };
}
