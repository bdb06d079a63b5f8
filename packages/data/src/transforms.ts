/**
 * The built-in transforms of `data.augment`: randomCrop (zero padding, then a crop back to the image's size) and
 * horizontalFlip, torchvision's RandomCrop(size, padding) and RandomHorizontalFlip(p). Both work in place on
 * [N, C, H, W] batches with row copies and fills: nothing is allocated per batch.
 */
import type { Rng } from "@nabla/ndarray";
import { z } from "zod";
import type { TransformContext, TransformDefinition } from "./augment.js";
import { DataError } from "./errors.js";

/** [C, H, W] of an image shape, or the problem as "expected …, got …". */
export function imageShape(featureShape: readonly number[]): [number, number, number] | string {
  if (featureShape.length !== 3) {
    return `expected images of shape [C, H, W], got featureShape [${featureShape.join(", ")}]`;
  }
  return [featureShape[0], featureShape[1], featureShape[2]];
}

const positiveInt = z.number().int().positive();

const cropSchema = z.strictObject({
  /** Pixels of padding on each of the four sides (torchvision's `padding` as one integer). */
  padding: z
    .number({ error: "expected a non-negative integer (pixels of padding on each side), e.g. 4" })
    .int({ error: "expected a non-negative integer (pixels of padding on each side), e.g. 4" })
    .min(0, { error: "expected a non-negative integer (pixels of padding on each side), e.g. 4" })
    .max(0xffff, { error: "expected at most 65535 pixels of padding" }),
  /** The crop's size, `s` for s × s or [height, width]; default (and only value) the image's [H, W]. */
  size: z
    .union([positiveInt, z.tuple([positiveInt, positiveInt])], {
      error: "expected a positive integer or [height, width]",
    })
    .optional(),
});
type CropConfig = z.output<typeof cropSchema>;

/**
 * randomCrop: pad each image by `padding` pixels of rawZero (per channel), then crop an H × W window at a random
 * offset. Per example, top = rng.below(2·padding + 1) then left = rng.below(2·padding + 1) (torchvision's order:
 * the row offset first), and out[c][y][x] = in[c][y + top − padding][x + left − padding], rawZero[c] outside.
 * A smaller or larger crop would change the sample shape that validation and test batches (never cropped) and
 * the model share, so `size` must be the image's.
 */
export const randomCrop: TransformDefinition<CropConfig> = Object.freeze({
  schema: cropSchema,
  check(config: CropConfig, featureShape: readonly number[]): string | undefined {
    const shape = imageShape(featureShape);
    if (typeof shape === "string") return shape;
    const [, h, w] = shape;
    if (config.size === undefined) return undefined;
    const [sh, sw] = typeof config.size === "number" ? [config.size, config.size] : config.size;
    if (sh !== h || sw !== w) {
      const image = h === w ? `${h}` : `[${h}, ${w}]`;
      const given = typeof config.size === "number" ? `${config.size}` : `[${sh}, ${sw}]`;
      return `size: expected ${image} (the image's height and width: a crop keeps the sample shape, which validation and test batches and the model share), got ${given}`;
    }
    return undefined;
  },
  build(config: CropConfig, ctx: TransformContext) {
    const [c, h, w] = imageShape(ctx.featureShape) as [number, number, number];
    const { padding } = config;
    const fill = new Float32Array(c);
    if (padding > 0) {
      const { rawZero } = ctx;
      if (rawZero === undefined) {
        throw new DataError(
          "randomCrop",
          "rawZero",
          "expected the value a raw 0 takes once batched, per channel (the padding; Dataset.rawZero), got none",
        );
      }
      if (rawZero.length !== c || !rawZero.every(Number.isFinite)) {
        throw new DataError(
          "randomCrop",
          "rawZero",
          `expected ${c} finite values (one per channel), got [${rawZero.join(", ")}]`,
        );
      }
      fill.set(rawZero);
    }
    const bound = 2 * padding + 1;
    const plane = h * w;
    const f = c * plane;
    return (x: Float32Array, size: number, rng: Rng) => {
      for (let i = 0; i < size; i++) {
        const dy = rng.below(bound) - padding;
        const dx = rng.below(bound) - padding;
        if (dy === 0 && dx === 0) continue;
        for (let ch = 0; ch < c; ch++) shiftPlane(x, i * f + ch * plane, h, w, dy, dx, fill[ch]);
      }
    };
  },
});

/**
 * In place, plane[y][x] = plane[y + dy][x + dx], v where that is outside. The rows that have a source row move
 * as one flat memmove by dy·w + dx (copyWithin copies as if through a temporary, so the overlap is safe); the
 * columns that memmove takes from a neighbouring row are exactly the padding columns, overwritten with v after.
 */
function shiftPlane(x: Float32Array, base: number, h: number, w: number, dy: number, dx: number, v: number) {
  const plane = h * w;
  const y0 = dy < 0 ? -dy : 0;
  const y1 = dy > 0 ? h - dy : h;
  if (y1 <= y0 || dx >= w || -dx >= w) {
    x.fill(v, base, base + plane);
    return;
  }
  const d = dy * w + dx;
  // Clipped so the source stays inside the plane; what the clip leaves out is padding columns too.
  const start = Math.max(y0 * w, -d);
  const end = Math.min(y1 * w, plane - d);
  x.copyWithin(base + start, base + start + d, base + end + d);
  x.fill(v, base, base + y0 * w);
  x.fill(v, base + y1 * w, base + plane);
  const x0 = dx < 0 ? -dx : 0;
  const x1 = dx > 0 ? w - dx : w;
  for (let y = y0; y < y1; y++) {
    const o = base + y * w;
    for (let j = 0; j < x0; j++) x[o + j] = v;
    for (let j = x1; j < w; j++) x[o + j] = v;
  }
}

const flipSchema = z.strictObject({
  /** Probability of flipping each image. */
  p: z
    .number({ error: "expected a probability in [0, 1]" })
    .min(0, { error: "expected a probability in [0, 1]" })
    .max(1, { error: "expected a probability in [0, 1]" })
    .default(0.5),
});
type FlipConfig = z.output<typeof flipSchema>;

/**
 * horizontalFlip: per example, one rng.uniform() (drawn whatever p is, so p does not move later draws); the
 * image is mirrored left to right, out[c][y][x] = in[c][y][W − 1 − x], when that draw is below p.
 */
export const horizontalFlip: TransformDefinition<FlipConfig> = Object.freeze({
  schema: flipSchema,
  check: (_config: FlipConfig, featureShape: readonly number[]) => {
    const shape = imageShape(featureShape);
    return typeof shape === "string" ? shape : undefined;
  },
  build(config: FlipConfig, ctx: TransformContext) {
    const [c, h, w] = imageShape(ctx.featureShape) as [number, number, number];
    const { p } = config;
    const rows = c * h;
    const f = rows * w;
    return (x: Float32Array, size: number, rng: Rng) => {
      for (let i = 0; i < size; i++) {
        if (!(rng.uniform() < p)) continue;
        for (let r = 0; r < rows; r++) {
          for (let a = i * f + r * w, b = a + w - 1; a < b; a++, b--) {
            const t = x[a];
            x[a] = x[b];
            x[b] = t;
          }
        }
      }
    };
  },
});
