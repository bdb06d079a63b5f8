/**
 * The homework's tasks — computations beside the training runs, cached by the runner like them. Importing
 * this module registers them; `nabla experiments experiments --tasks dist/tasks.js` runs the folder.
 */
import { registerTask } from "@nabla/runner";
import { z } from "zod";
import { crossCheck } from "./crosscheck.js";
import { Q5_DEFAULTS, runQ5MonteCarlo } from "./q5.js";

const positiveInt = z.number().int().positive();

registerTask({
  kind: "tfjs-crosscheck",
  schema: z.strictObject({
    seed: z.number().int().min(0).max(0xffff_ffff).default(0),
    steps: positiveInt.default(20),
    batchSize: positiveInt.default(128),
    dims: z.array(positiveInt).min(2).default([3072, 128, 10]),
    lr: z.number().finite().positive().default(0.01),
    backend: z.enum(["wasm", "cpu"]).default("wasm"),
  }),
  run: (config) => crossCheck(config),
  code: [new URL("./crosscheck.js", import.meta.url)],
  packages: [
    "@nabla/runner",
    "@nabla/tfjs",
    "@nabla/nn",
    "@nabla/ndarray",
    "@nabla/optim",
    "@tensorflow/tfjs-core",
    "@tensorflow/tfjs-backend-wasm",
  ],
});

registerTask({
  kind: "q5-monte-carlo",
  schema: z.strictObject({
    seed: z.number().int().min(0).max(0xffff_ffff).default(Q5_DEFAULTS.seed),
    samples: positiveInt.default(Q5_DEFAULTS.samples),
    sigmas: z
      .array(z.number().finite().positive())
      .min(1)
      .default([...Q5_DEFAULTS.sigmas]),
  }),
  run: (config) => runQ5MonteCarlo(config),
  code: [new URL("./q5.js", import.meta.url)],
  packages: ["@nabla/ndarray"],
});
