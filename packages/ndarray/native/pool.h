// Work sharing between the calling thread and the native GEMM's helper thread (included by gemm.cc only,
// after `isa` is declared).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "kernels.h"

namespace {

// Work sharing with one persistent helper thread. A call cuts C into chunks (column or row ranges at tile
// boundaries) that the caller and the helper claim from a shared counter, so if the helper is descheduled
// (a busy machine) the caller simply does more chunks. The claim word packs (generation << 32 | next chunk),
// so a helper that wakes late can never claim a chunk of a newer call with an older call's operands.
using Clock = std::chrono::steady_clock;

struct Pool {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<uint64_t> claim{0};
  std::atomic<int> completed{0};
  std::atomic<uint32_t> posted{0};  // generation of the latest job
  Op op{};
  bool byColumns = true;
  int chunks = 0, chunkTiles = 0;
  // Shared-B mode: chunks [0, packChunks) pack slivers of B, the rest are row chunks that start only after
  // every pack chunk is done (packDone).
  bool sharedB = false;
  int packChunks = 0, slivers = 0, ncPad = 0;
  std::atomic<int> packDone{0};
  float* shared = nullptr;
  size_t sharedCap = 0;
  Scratch scratch;
  // The caller's view of the current call: its scratch (to tell its chunks from the helper's), how many
  // chunks it ran and how long it spent waiting on the helper.
  const Scratch* callerScratch = nullptr;
  int callerChunks = 0;
  Clock::duration callerWaited{};

  void runChunk(const Op& whole, int index, Scratch& s) {
    if (!sharedB) {
      isa.run(chunk(whole, index), s);
      return;
    }
    if (index < packChunks) {
      const int per = ceilDivide(slivers, packChunks);
      isa.packShared(whole, shared, ncPad, index * per, std::min(slivers, (index + 1) * per));
      packDone.fetch_add(1, std::memory_order_acq_rel);
      return;
    }
    if (packDone.load(std::memory_order_acquire) < packChunks) {
      const auto t0 = Clock::now();
      for (int spin = 0; packDone.load(std::memory_order_acquire) < packChunks; spin++) {
        if (spin < 4000) _mm_pause(); else std::this_thread::yield();
      }
      if (&s == callerScratch) callerWaited += Clock::now() - t0;
    }
    isa.rowsShared(chunk(whole, index - packChunks), shared, ncPad, s);
  }

  static int ceilDivide(int a, int b) { return (a + b - 1) / b; }

  Op chunk(const Op& whole, int index) const {
    Op part = whole;
    if (byColumns) {
      const int j0 = index * chunkTiles * isa.nr;
      part.n = std::min(whole.n, j0 + chunkTiles * isa.nr) - j0;
      part.b = whole.b + j0 * whole.bcs;
      part.c = whole.c + j0 * whole.ccs;
    } else {
      const int i0 = index * chunkTiles * isa.mr;
      part.m = std::min(whole.m, i0 + chunkTiles * isa.mr) - i0;
      part.a = whole.a + i0 * whole.ars;
      part.c = whole.c + i0 * whole.crs;
    }
    return part;
  }

  // Claims and runs chunks of generation `gen` until none are left.
  void work(uint32_t gen, const Op& whole, int n, Scratch& s) {
    for (;;) {
      uint64_t cur = claim.load(std::memory_order_acquire);
      for (;;) {
        if (static_cast<uint32_t>(cur >> 32) != gen || static_cast<int>(cur & 0xffffffffu) >= n) return;
        if (claim.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel)) break;
      }
      runChunk(whole, static_cast<int>(cur & 0xffffffffu), s);
      if (&s == callerScratch) callerChunks++;
      completed.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void helperLoop() {
    uint32_t seen = 0;
    for (;;) {
      // Spin briefly (the GEMMs of a training step come microseconds apart), then sleep on the condvar.
      for (int spin = 0; spin < 20000 && posted.load(std::memory_order_acquire) == seen; spin++) _mm_pause();
      if (posted.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return posted.load(std::memory_order_acquire) != seen; });
      }
      uint32_t gen;
      Op whole;
      int n;
      {
        std::lock_guard<std::mutex> lock(mu);  // the job fields are written under mu
        gen = posted.load(std::memory_order_acquire);
        whole = op;
        n = chunks;
      }
      seen = gen;
      work(gen, whole, n, scratch);
    }
  }

  // Row chunks over a B packed once and shared (caller holds `busy`, so the buffer is not in use).
  bool runSharedB(const Op& whole, int tilesPerChunk, int rowChunks, Scratch& own) {
    slivers = ceilDivide(whole.n, isa.nr);
    ncPad = slivers * isa.nr;
    const size_t need = static_cast<size_t>(whole.k) * ncPad;
    if (need > sharedCap) {
      std::free(shared);
      shared = static_cast<float*>(std::aligned_alloc(64, ((need * 4 + 63) / 64) * 64));
      sharedCap = need;
    }
    packChunks = std::min(slivers, 4);
    packDone.store(0, std::memory_order_relaxed);
    return run(whole, false, tilesPerChunk, packChunks + rowChunks, own, true);
  }

  // Runs the call on both threads; returns whether it would have been faster on the caller alone (the helper
  // was descheduled, e.g. by other processes on a busy machine, while it held chunks the caller waited for).
  bool run(const Op& whole, bool columns, int tilesPerChunk, int n, Scratch& own, bool withSharedB = false) {
    uint32_t gen;
    callerScratch = &own;
    callerChunks = 0;
    callerWaited = Clock::duration::zero();
    const auto start = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mu);
      op = whole;
      byColumns = columns;
      chunkTiles = tilesPerChunk;
      chunks = n;
      sharedB = withSharedB;
      completed.store(0, std::memory_order_relaxed);
      gen = posted.load(std::memory_order_relaxed) + 1;
      claim.store(static_cast<uint64_t>(gen) << 32, std::memory_order_release);
      posted.store(gen, std::memory_order_release);
    }
    cv.notify_one();
    work(gen, whole, n, own);
    const auto worked = Clock::now();
    for (int spin = 0; completed.load(std::memory_order_acquire) < n; spin++) {
      if (spin < 4000) _mm_pause(); else std::this_thread::yield();
    }
    const auto waited = callerWaited + (Clock::now() - worked);
    const auto busy = (worked - start) - callerWaited;
    // Alone, the caller would have needed about busy * n / callerChunks; it needed busy + waited.
    return callerChunks > 0 && callerChunks < n && waited * callerChunks > busy * (n - callerChunks);
  }
};

}  // namespace
