// The bench's contenders and its interleaved rounds: every implementation runs one repetition per round, in
// turn, so a burst of load from other tenants of the shared machine slows all of them alike instead of
// skewing the one that happened to be measured then. A contender in another process (the WebAssembly step,
// numpy, torch, TF.js) speaks one JSON line per message: {"ready": true} once warmed up, then
// {"samplesPerSecond": x} for each "rep" line on its stdin, and a final line after "done".
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** A contender in a child process; `name` is for messages. Its start() rejects with the child's last stderr. */
export function processContender(name, command, args, env = process.env) {
  const child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const lines = [];
  const waiting = [];
  let ended = null;
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (!line.startsWith("{")) return; // banners and warnings of the libraries
    const w = waiting.shift();
    if (w) w.resolve(JSON.parse(line));
    else lines.push(JSON.parse(line));
  });
  const fail = (why) => {
    ended = new Error(`${name}: ${why}${stderr.trim() ? `: ${stderr.trim().split("\n").at(-1)}` : ""}`);
    for (const w of waiting.splice(0)) w.reject(ended);
  };
  child.on("error", (e) => fail(`${command} not runnable (${e.message})`));
  child.on("exit", (code) => fail(code === 0 ? "exited early" : `exited with ${code}`));
  const next = () =>
    lines.length > 0
      ? Promise.resolve(lines.shift())
      : ended
        ? Promise.reject(ended)
        : new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  return {
    name,
    start: () => next(),
    async rep() {
      child.stdin.write("rep\n");
      return (await next()).samplesPerSecond;
    },
    async finish() {
      child.stdin.end("done\n");
      return next();
    },
  };
}

const SETTLE_MS = 250;
/**
 * Every contender's repetition lasts about this long (its step count set from its warm-up), so the cost of
 * coming back to a core whose caches another contender just used weighs the same on fast and slow steps.
 */
export const REPETITION_SECONDS = 0.25;

/** A repetition timer for `step` (samples per step `batch`): steps per repetition from 10 timed steps. */
export function repetitions(step, batch, minSteps = 4) {
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) step();
  const stepSeconds = (performance.now() - t0) / 10 / 1000;
  const steps = Math.max(minSteps, Math.round(REPETITION_SECONDS / stepSeconds));
  return () => {
    // Untimed steps first: a contender resumes on cores, caches and a helper thread the others just used.
    for (let i = 0; i < Math.ceil(steps / 5); i++) step();
    const t = performance.now();
    for (let i = 0; i < steps; i++) step();
    return (steps * batch) / ((performance.now() - t) / 1000);
  };
}

/**
 * Runs `rounds` rounds over the contenders that start; returns, per name, {rates, final} or {skipped}: rates[r]
 * is what rep() returned in round r (samples/s for a training step, GFLOP/s for the limit's GEMMs), so two
 * contenders' rates of the same round were measured under the same load. `onRound` reports progress.
 */
export async function interleave(contenders, rounds, onRound = () => {}) {
  const results = {};
  const live = [];
  for (const c of contenders) {
    try {
      await c.start();
      live.push(c);
      results[c.name] = { rates: [] };
    } catch (error) {
      results[c.name] = { skipped: error.message };
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of live) {
      // BLAS and OpenMP threads spin for a while after their last call; let them go idle first.
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      results[c.name].rates.push(await c.rep());
    }
    onRound(r + 1, rounds);
  }
  for (const c of live) results[c.name].final = await c.finish();
  return results;
}

/** The child side for a contender written in JavaScript: `contender` has rep() and finish(). */
export async function serve(contender) {
  const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
  say({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== "rep") break;
    say({ samplesPerSecond: await contender.rep() });
  }
  say(await contender.finish());
}
