import { describe, expect, test } from "vitest";
import { parseQueueName, parseQueueUrl, redactUrl } from "./url.js";

describe("queue URLs", () => {
  test("redis:// with a password and a database; rediss:// turns TLS on", () => {
    expect(parseQueueUrl("redis://:p%40ss@10.0.0.5:6380/2")).toEqual({
      connection: { host: "10.0.0.5", port: 6380, db: 2, password: "p@ss", maxRetriesPerRequest: null },
      display: "redis://:***@10.0.0.5:6380/2",
    });
    expect(parseQueueUrl("rediss://user:pw@redis.example.org").connection).toEqual({
      host: "redis.example.org",
      port: 6379,
      db: 0,
      username: "user",
      password: "pw",
      maxRetriesPerRequest: null,
      tls: { servername: "redis.example.org" },
    });
    expect(parseQueueUrl("redis://[::1]:7000").connection).toMatchObject({ host: "::1", port: 7000 });
  });

  test("bad URLs are one line naming the flag and the format, never the password", () => {
    const format = "expected redis://[:password@]host[:port][/db] or rediss://… for TLS";
    expect(() => parseQueueUrl("http://:secret@h:1")).toThrow(
      `--queue: unsupported scheme "http"; ${format}, got "http://:***@h:1"`,
    );
    expect(() => parseQueueUrl("redis://:secret@h:1/zero")).toThrow(
      `--queue: database "zero" is not a number; ${format}, got "redis://:***@h:1/zero"`,
    );
    expect(() => parseQueueUrl("localhost:6379")).toThrow(/^--queue: unsupported scheme "localhost"/);
    expect(() => parseQueueUrl("not a url")).toThrow(`--queue: not a URL; ${format}, got "not a url"`);
    expect(() => parseQueueUrl("redis://h:1/0?tls=1")).toThrow(
      /query strings and fragments are not supported/,
    );
    expect(redactUrl("rediss://me:secret@h:1")).toBe("rediss://me:***@h:1");
    // Percent-encoding mistakes are the user's: one line saying how to write a %, never an internal error.
    expect(() => parseQueueUrl("redis://:%zz@h:1")).toThrow(
      `--queue: the password is not valid percent-encoding (write % as %25); ${format}, got "redis://:***@h:1"`,
    );
    expect(() => parseQueueUrl("redis://%E0%A4%A@h")).toThrow(/^--queue: the user name is not valid/);
    expect(() => parseQueueUrl("redis://h:0")).toThrow(/^--queue: port 0 is not a port to connect to/);
    expect(redactUrl("redis://:pa/ss@word@h")).toBe("redis://:***@h");
    const long = `redis://h/${"9".repeat(100_000)}`;
    expect(() => parseQueueUrl(long)).toThrow(/is not a number; .*, got "redis:\/\/h\/9{190}…"$/);
  });

  test("queue names", () => {
    expect(parseQueueName(undefined)).toBe("nabla");
    expect(parseQueueName("hw1-lr")).toBe("hw1-lr");
    expect(() => parseQueueName("a:b")).toThrow(
      '--queue-name: expected letters, digits, ".", "_" or "-" (at most 100), got "a:b"',
    );
  });
});
