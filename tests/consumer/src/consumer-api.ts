// Compiled by the consumer test in a fresh npm project against the packed tarballs, with `strict`,
// `skipLibCheck: false` and no @types/node: every type a published .d.ts mentions must resolve from the
// packages' own dependencies, and none may silently become `any`. Also typechecked inside the workspace.
import { cifar10Source, createStderrProgress, type ProgressStream, syntheticCifar10 } from "@nabla/cifar";
import { arrayDataset, type Dataset, type DatasetSource, featureSize } from "@nabla/data";
import { writeFileAtomic } from "@nabla/io";
import { gemm, type Parameter, Rng, type Tensor, zeros } from "@nabla/ndarray";
import { buildSequential, MLP, type Module, SoftmaxCrossEntropy } from "@nabla/nn";
import { createOptimizer, type Optimizer, SGD } from "@nabla/optim";
import { type Environment, findBrowser, formatFixed, renderReport } from "@nabla/report";
import {
  createProgressRenderer,
  type ExperimentSpec,
  parseSpec,
  type Results,
  runCli,
  runExperiment,
  type TextOutput,
} from "@nabla/runner";
import { createTfjsMlp, nablaMlpWeights, type TfjsMlp } from "@nabla/tfjs";

/** 1 when T is `any`, else 0: an unresolved import in a .d.ts turns types into `any` under skipLibCheck. */
type IsAny<T> = 0 extends 1 & T ? 1 : 0;
type NotAny<T> = IsAny<T> extends 0 ? true : never;
export const typesAreReal: NotAny<Tensor> &
  NotAny<Tensor["data"]> &
  NotAny<Parameter> &
  NotAny<Module> &
  NotAny<Optimizer> &
  NotAny<Dataset> &
  NotAny<ExperimentSpec> &
  NotAny<Results> &
  NotAny<TfjsMlp> &
  NotAny<Environment> &
  NotAny<ReturnType<typeof cifar10Source.info>> = true;

export async function useEveryPackage(): Promise<number> {
  const x: Tensor<Float32Array> = zeros([4, 8]) as Tensor<Float32Array>;
  new Rng(1).fillNormal(x);
  const y = zeros([4, 4]);
  gemm(false, true, 1, x, x, 0, y);
  const shape: number[] = y.shape;

  const model = new MLP(8, [6], 3, { seed: 1 });
  const loss = new SoftmaxCrossEntropy();
  const value: number = loss.forward(model.forward(x), new Int32Array(4));
  model.backward(loss.backward());
  const params: Parameter[] = model.parameters();
  const opt = createOptimizer({ kind: "sgd", lr: 0.1 }, params);
  opt.step();
  const sgd: SGD = new SGD(params, { lr: 0.01 });
  sgd.zeroGrad();
  const seq: Module = buildSequential([{ linear: 4 }, "relu", { linear: 3 }], { inputDim: 8, seed: 1 });

  const data = syntheticCifar10({ trainCount: 10, testCount: 5, seed: 1 });
  const size: number = featureSize([3, 32, 32]) + data.train.count;
  const source: DatasetSource<object> = cifar10Source as unknown as DatasetSource<object>;
  const dataset: Dataset = arrayDataset({
    name: "tiny",
    featureShape: [2],
    classNames: ["a", "b"],
    train: { x: new Uint8Array(8), labels: new Uint8Array(4) },
    test: { x: new Uint8Array(4), labels: new Uint8Array(2) },
    holdout: { seed: 1, validationSize: 1 },
  });

  const out: TextOutput = { write: (text: string) => text.length };
  const stream: ProgressStream = out;
  createStderrProgress(stream)({ phase: "info", message: "x" });
  createProgressRenderer(out);
  const code: number = await runCli(["--version"], { out, err: out });
  const spec: ExperimentSpec = parseSpec({ name: "typed" });
  const run: typeof runExperiment = runExperiment;

  const env: Environment = { PUPPETEER_EXECUTABLE_PATH: undefined };
  const find: typeof findBrowser = findBrowser;
  const render: typeof renderReport = renderReport;
  const text: string = formatFixed(value, 3);

  const mlp: TfjsMlp = await createTfjsMlp({ layers: nablaMlpWeights(model) });
  mlp.dispose();
  await writeFileAtomic(`${spec.name}.json`, text);
  return (
    shape.length +
    size +
    code +
    seq.parameters().length +
    Object.keys(env).length +
    source.name.length +
    Object.keys(dataset.splits).length +
    (run === runExperiment ? 0 : 1) +
    (find === findBrowser ? 0 : 1) +
    (render === renderReport ? 0 : 1)
  );
}
