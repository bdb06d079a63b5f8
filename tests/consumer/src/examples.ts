// The README examples, as the consumer test runs them. Each package README's ```ts blocks are read from the
// README itself, so an edited example is what gets compiled and run. The blocks are fragments of a reader's
// program: what they leave to the reader (the batch `x`, the `model` being optimised, …) is declared in a
// prelude, and where running the literal block would train for minutes on CIFAR-10 a replacement shrinks the
// spec; each replacement must match the README text exactly, so it cannot drift from it unnoticed.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface ExampleSetup {
  /** TypeScript put before the block, declaring what the README leaves to the reader. */
  prelude?: string;
  /** Exact substitutions in the block; each `from` must occur in it. */
  replace?: [from: string, to: string][];
  /** Files the example expects beside it (paths relative to the folder it runs in). */
  files?: Record<string, string>;
}

export interface Example {
  /** e.g. "nn-2" for the second ```ts block of packages/nn/README.md. */
  id: string;
  packageDir: string;
  source: string;
  files: Record<string, string>;
}

const batch =
  "const x = new Float32Array(128 * 3072);\nconst labels = new Int32Array(128).map((_, i) => i % 10);\n";
const smallData =
  'const smallData = { source: "synthetic", trainCount: 612, testCount: 100, validationSize: 100, seed: 3 } as const;\n';

/** Keyed by package folder; one entry per ```ts block, in README order. */
export const setups: Record<string, ExampleSetup[]> = {
  io: [{ files: { "results/.keep": "" }, prelude: 'const results = { name: "q3" };\n' }],
  ndarray: [
    {},
    {
      prelude:
        'import { zeros as zerosOf } from "@nabla/ndarray";\n' +
        "const [x, dy, dx] = [zerosOf([128, 3, 32, 32]), zerosOf([128, 32, 32, 32]), zerosOf([128, 3, 32, 32])];\n" +
        "const [w, dw, b, db] = [zerosOf([32, 3, 3, 3]), zerosOf([32, 3, 3, 3]), zerosOf([32]), zerosOf([32])];\n",
    },
  ],
  nn: [{ prelude: batch }, {}],
  optim: [
    {
      prelude:
        'import { MLP as ReaderMLP } from "@nabla/nn";\nconst model = new ReaderMLP(3072, [128], 10, { seed: 42 });\nconst batches = [0];\n',
    },
    {
      prelude:
        'import { MLP as ReaderMLP } from "@nabla/nn";\nconst params = new ReaderMLP(8, [4], 2, { seed: 1 }).parameters();\n',
    },
    {
      prelude:
        'import { MLP as ReaderMLP } from "@nabla/nn";\nimport { createOptimizer, createScheduler } from "@nabla/optim";\n' +
        'const opt = createOptimizer({ kind: "sgd", lr: 0.1, momentum: 0.9 }, new ReaderMLP(8, [4], 2, { seed: 1 }).parameters());\n' +
        'const spec = { scheduler: { kind: "onecycle", maxLr: 0.1 } } as { scheduler: Parameters<typeof createScheduler>[0] };\n' +
        "const [epochs, batchesPerEpoch, batches] = [2, 3, [0, 1, 2]];\n",
    },
  ],
  data: [
    {},
    {},
    {
      prelude:
        'import { augmentBatches, loadDataset, registerDataset } from "@nabla/data";\nimport { syntheticSource } from "@nabla/cifar";\n' +
        "registerDataset(syntheticSource);\n" +
        'const config = { source: "synthetic", trainCount: 612, testCount: 100, validationSize: 100, seed: 3, augment: [{ randomCrop: { padding: 4 } }, "horizontalFlip"] };\n' +
        "const data = await loadDataset(config);\nconst [batchSize, seed] = [64, 1];\n",
    },
    { prelude: 'import { featureSize, registerTransform } from "@nabla/data";\nimport { z } from "zod";\n' },
  ],
  cifar: [{}],
  runner: [
    {
      prelude: `const signal = new AbortController().signal;\n${smallData}`,
      replace: [
        ['{ name: "q3", epochs: 10 }', '{ name: "q3", epochs: 1, data: smallData }'],
        [
          '{ name: "lr", grid: { lr: [1e-3, 1e-2, 1e-1] } }',
          '{ name: "lr", epochs: 1, data: smallData, grid: { lr: [1e-3, 1e-2, 1e-1] } }',
        ],
      ],
      files: {
        "experiments/tiny.json": JSON.stringify({
          name: "tiny",
          epochs: 1,
          data: { source: "synthetic", trainCount: 612, testCount: 100, validationSize: 100, seed: 3 },
        }),
      },
    },
  ],
  tfjs: [
    {
      prelude: `${batch}const xTest = new Float32Array(1000 * 3072);\nconst yTest = new Int32Array(1000);\n`,
    },
  ],
  report: [
    {
      files: {
        "templates/report.hbs":
          '{{#> section id="results" title="Results"}}\n<p>Test accuracy {{fixed testAccuracy 4}}.</p>\n' +
          '{{#> figure id="fig-loss" caption="Training loss per epoch."}}{{chart lossChart}}{{/figure}}\n{{/section}}\n',
      },
    },
  ],
};

export function readmeBlocks(readme: string, language: string): string[] {
  const fence = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, "gm");
  return [...readme.matchAll(fence)].map((m) => m[1]);
}

export function readmeExamples(root: string): Example[] {
  const examples: Example[] = [];
  for (const [packageDir, blockSetups] of Object.entries(setups)) {
    const blocks = readmeBlocks(readFileSync(join(root, "packages", packageDir, "README.md"), "utf8"), "ts");
    if (blocks.length !== blockSetups.length) {
      throw new Error(
        `packages/${packageDir}/README.md has ${blocks.length} \`\`\`ts blocks, the consumer test sets up ${blockSetups.length}`,
      );
    }
    blocks.forEach((block, i) => {
      const setup = blockSetups[i];
      let body = block;
      for (const [from, to] of setup.replace ?? []) {
        if (!body.includes(from)) {
          throw new Error(`packages/${packageDir}/README.md block ${i + 1} no longer contains ${from}`);
        }
        body = body.replace(from, to);
      }
      // `export {}` makes every block a module, so blocks declaring the same names do not collide.
      const source = `${setup.prelude ?? ""}${body}\nexport {};\n`;
      examples.push({ id: `${packageDir}-${i + 1}`, packageDir, source, files: setup.files ?? {} });
    });
  }
  return examples;
}
