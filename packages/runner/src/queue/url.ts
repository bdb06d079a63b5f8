/** `--queue redis://[:password@]host[:port][/db]` (or rediss:// for TLS) → BullMQ connection options. */
import { isIP } from "node:net";
import type { ConnectionOptions } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { echo, UserError } from "../errors.js";

export interface QueueConnection {
  connection: ConnectionOptions;
  /** The URL with its password replaced by `***`: what logs and errors show. */
  display: string;
}

const FORMAT = "redis://[:password@]host[:port][/db] or rediss://… for TLS";
/** BullMQ keys are `<prefix>:<queue>:…`; a colon in the name would blur that. */
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The URL as it may be printed: never with its password. */
export function redactUrl(url: string): string {
  // Up to the last "@": a password with an unencoded "/" or "@" in it is still hidden.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:).*@/i, "$1***@");
}

/** Parses a queue URL; a bad one is a one-line UserError naming the flag, what was expected and the URL (redacted). */
export function parseQueueUrl(url: string, flag = "--queue"): QueueConnection {
  const display = redactUrl(url);
  const fail = (why: string): never => {
    throw new UserError(`${flag}: ${why}; expected ${FORMAT}, got "${echo(display)}"`);
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail("not a URL");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    fail(`unsupported scheme "${parsed.protocol.replace(/:$/, "")}"`);
  if (parsed.hostname === "") fail("no host");
  if (parsed.search !== "" || parsed.hash !== "") fail("query strings and fragments are not supported");
  const port = parsed.port === "" ? 6379 : Number(parsed.port);
  if (port === 0) fail("port 0 is not a port to connect to");
  const dbText = parsed.pathname.replace(/^\//, "");
  if (dbText !== "" && !/^\d{1,5}$/.test(dbText)) fail(`database "${echo(dbText)}" is not a number`);
  const db = dbText === "" ? 0 : Number(dbText);
  // IPv6 literals come back bracketed from URL; ioredis wants them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const options: Record<string, unknown> = {
    host,
    port,
    db,
    // BullMQ workers block on Redis; ioredis must wait for a reply however long it takes.
    maxRetriesPerRequest: null,
  };
  // A bare % (or %zz) in a password is the usual mistake: say how to write it, without printing it.
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      return fail(`the ${what} is not valid percent-encoding (write % as %25)`);
    }
  };
  if (parsed.username !== "") options.username = decode(parsed.username, "user name");
  if (parsed.password !== "") options.password = decode(parsed.password, "password");
  // The certificate is checked against Node's CAs (add a private CA with NODE_EXTRA_CA_CERTS).
  if (parsed.protocol === "rediss:") options.tls = isIP(host) === 0 ? { servername: host } : {};
  return { connection: options as ConnectionOptions, display };
}

/** Checks a `--queue-name`; default "nabla". */
export function parseQueueName(name: string | undefined): string {
  const value = name ?? "nabla";
  if (!QUEUE_NAME.test(value))
    throw new UserError(
      `--queue-name: expected letters, digits, ".", "_" or "-" (at most 100), got "${echo(value)}"`,
    );
  return value;
}

/**
 * Connects once, without retries, and pings: a wrong password, an unreachable host or a TLS problem is one
 * line before any work starts (BullMQ's own clients would retry it forever). Later drops are retried by them.
 */
export async function checkConnection(
  { connection, display }: QueueConnection,
  flag = "--queue",
): Promise<void> {
  const client = new Redis({
    ...(connection as RedisOptions),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 10_000,
  });
  // The first error says why (WRONGPASS, ECONNREFUSED, a certificate); what connect() rejects with is generic.
  let first: Error | undefined;
  client.on("error", (err: Error) => {
    first ??= err;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const cause = first ?? (err as Error);
    const message = (cause.message || (cause as NodeJS.ErrnoException).code || String(cause)).split("\n")[0];
    throw new UserError(`${flag} ${display}: cannot connect (${message})`);
  } finally {
    client.disconnect();
  }
}
