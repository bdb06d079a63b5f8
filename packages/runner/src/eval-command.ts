/** `nabla eval <results.json | checkpoint.safetensors> [--split test|validation]`. */
import { type Out, onePositional, parse } from "./cli-args.js";
import { UsageError } from "./errors.js";
import { evaluateCheckpoint } from "./evaluate.js";

export const EVAL_HELP = `Usage: nabla eval <results.json | checkpoint.safetensors> [--split test|validation]

Reloads the best-validation model a run wrote beside its results file (<name>.safetensors), rebuilds the
model from the spec in the results file, and prints its accuracy and mean loss on the split (default test).
On the test split it says whether that reproduces the recorded test accuracy bit for bit.

Options:
  --split, -s name   test (default) or validation
  --help, -h         this text`;

export async function evalCommand(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse("eval", args, { split: { type: "string", short: "s" } });
  if (values.help) {
    io.out.write(`${EVAL_HELP}\n`);
    return 0;
  }
  const path = onePositional(positionals, "eval", "results or checkpoint file");
  const split = (values.split as string | undefined) ?? "test";
  if (split !== "test" && split !== "validation") {
    throw new UsageError(`--split: expected "test" or "validation", got "${split}"`);
  }
  const o = await evaluateCheckpoint(path, { split });
  const correct = Math.round(o.accuracy * o.count);
  io.out.write(
    `${o.results.name} on ${o.split}: accuracy ${o.accuracy.toFixed(4)} (${correct}/${o.count}), loss ${o.loss.toFixed(4)}\n`,
  );
  if (o.recorded !== undefined) {
    io.out.write(
      o.recorded.identical
        ? `identical to the recorded test accuracy (${o.recorded.accuracy}) and loss, bit for bit\n`
        : `differs from the recorded test accuracy ${o.recorded.accuracy} (loss ${o.recorded.loss})\n`,
    );
    return o.recorded.identical ? 0 : 1;
  }
  return 0;
}
