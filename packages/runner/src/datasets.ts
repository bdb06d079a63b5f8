/**
 * The data sources a spec's `data.source` can name. A new source (Fashion-MNIST, CIFAR-100 files) is a module
 * implementing @nabla/data's DatasetSource plus one line here — or `registerDataset` from user code.
 */
import { cifar10Source, syntheticSource } from "@nabla/cifar";
import {
  type DataConfig,
  type DatasetInfo,
  datasetInfo,
  datasetNames,
  featureSize,
  registerDataset,
} from "@nabla/data";

let registered = false;

/** Registers the built-in sources once (not at import: a package with side effects on import is not tree-shaken). */
export function ensureBuiltinDatasets(): void {
  if (registered) return;
  registered = true;
  for (const source of [cifar10Source, syntheticSource]) {
    if (!datasetNames().includes(source.name)) registerDataset(source);
  }
}

/** What a spec's data config determines before anything is read: feature shape, class names, split sizes. */
export function experimentDatasetInfo(spec: { data: DataConfig }): DatasetInfo & { featureSize: number } {
  ensureBuiltinDatasets();
  const info = datasetInfo(spec.data);
  return { ...info, featureSize: featureSize(info.featureShape) };
}
