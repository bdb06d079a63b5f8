import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeRecords } from "../test/fixtures.js";
import { IMAGE_BYTES, RECORD_BYTES } from "./constants.js";
import { concatSplits, parseCifarBatch, selectImages } from "./parse.js";

describe("parseCifarBatch", () => {
  it("splits records into labels and channel-major images, for any record count", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 1000 }), (count, salt) => {
        const bytes = makeRecords(count, salt);
        const split = parseCifarBatch(bytes, "x.bin", count);
        expect(split.count).toBe(count);
        for (let i = 0; i < count; i++) {
          expect(split.labels[i]).toBe(bytes[i * RECORD_BYTES]);
          // spot-check: first R, first G, last B byte of each image
          for (const p of [0, 1024, 3071])
            expect(split.images[i * IMAGE_BYTES + p]).toBe(bytes[i * RECORD_BYTES + 1 + p]);
        }
      }),
      { numRuns: 30 },
    );
  });

  it("rejects wrong sizes and bad labels with one-line messages naming the file", () => {
    const bytes = makeRecords(2, 1);
    expect(() => parseCifarBatch(bytes.subarray(0, 5000), "/d/a.bin", 2)).toThrow(
      "/d/a.bin: truncated: 5,000 bytes, expected 6,146 (2 records of 3,073 bytes)",
    );
    expect(() => parseCifarBatch(bytes, "/d/a.bin", 1)).toThrow(
      "/d/a.bin: too long: 6,146 bytes, expected 3,073",
    );
    expect(() => parseCifarBatch(bytes.subarray(0, 5000), "/d/a.bin")).toThrow(
      "/d/a.bin: 5,000 bytes is not a whole, non-zero number of 3,073-byte records",
    );
    const bad = Uint8Array.from(bytes);
    bad[RECORD_BYTES] = 255;
    expect(() => parseCifarBatch(bad, "/d/a.bin")).toThrow(
      "/d/a.bin: record 1 (byte offset 3073) has label byte 255, expected 0-9",
    );
  });

  it("concatSplits and selectImages keep images with their labels", () => {
    const a = parseCifarBatch(makeRecords(3, 1), "a");
    const b = parseCifarBatch(makeRecords(2, 2), "b");
    const all = concatSplits([a, b]);
    expect(all.count).toBe(5);
    expect(all.images.subarray(3 * IMAGE_BYTES, 4 * IMAGE_BYTES)).toEqual(b.images.subarray(0, IMAGE_BYTES));
    const picked = selectImages(all, [4, 0]);
    expect(Array.from(picked.labels)).toEqual([all.labels[4], all.labels[0]]);
    expect(picked.images.subarray(0, IMAGE_BYTES)).toEqual(all.images.subarray(4 * IMAGE_BYTES));
    expect(() => selectImages(all, [5])).toThrow(RangeError);
  });
});
