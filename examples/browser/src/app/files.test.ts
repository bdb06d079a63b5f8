import { describe, expect, it } from "vitest";
import { isTestFile, parsePickedFiles, pickedFilesProblem } from "./files.js";

const RECORD = 3073;

function records(labels: number[]): ArrayBuffer {
  const bytes = new Uint8Array(labels.length * RECORD);
  labels.forEach((label, i) => {
    bytes[i * RECORD] = label;
    bytes.fill(i + 1, i * RECORD + 1, (i + 1) * RECORD);
  });
  return bytes.buffer;
}

describe("picked CIFAR-10 files", () => {
  it("sorts test_batch*.bin into the test split, everything else into training", () => {
    expect(isTestFile("test_batch.bin")).toBe(true);
    expect(isTestFile("data_batch_1.bin")).toBe(false);
    const { train, test } = parsePickedFiles([
      { name: "data_batch_1.bin", bytes: records([1, 2]) },
      { name: "test_batch.bin", bytes: records([9]) },
      { name: "data_batch_2.bin", bytes: records([3]) },
    ]);
    expect([...train.labels]).toEqual([1, 2, 3]);
    expect(train.images[3072 * 2]).toBe(1); // data_batch_2's first image follows data_batch_1's two
    expect(test?.count).toBe(1);
    expect(parsePickedFiles([{ name: "data_batch_1.bin", bytes: records([0]) }]).test).toBeNull();
  });

  it("gives one line naming the file whose size is not whole records", () => {
    expect(pickedFilesProblem([{ name: "data_batch_1.bin", size: 10 * RECORD }])).toBeNull();
    const message = pickedFilesProblem([
      { name: "data_batch_1.bin", size: RECORD },
      { name: "photo.jpg", size: 3 * RECORD + 1 },
    ]);
    expect(message).toBe(
      "photo.jpg: 9,220 bytes is not a whole, non-zero number of CIFAR-10 records " +
        "(1 label byte + 3,072 pixel bytes = 3,073 bytes each; 3 records and 1 byte over)",
    );
    expect(pickedFilesProblem([{ name: "empty.bin", size: 0 }])).toMatch(/^empty\.bin: 0 bytes/);
    expect(pickedFilesProblem([])).toMatch(/no file picked/);
    expect(pickedFilesProblem([{ name: "test_batch.bin", size: RECORD }])).toMatch(
      /add at least one training file/,
    );
  });

  it("reports a bad label byte with the file and record (from parseCifarBatch)", () => {
    expect(() => parsePickedFiles([{ name: "data_batch_1.bin", bytes: records([0, 12]) }])).toThrow(
      "data_batch_1.bin: record 1 (byte offset 3073) has label byte 12, expected 0-9",
    );
  });
});
