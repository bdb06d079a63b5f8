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
// boundaries) that the caller and the helper claim from a shared word, so if the helper is descheduled
// (a busy machine) the caller simply does more chunks. The claim word packs (generation << 32 | chunks taken
// from the back << 16 | chunks taken from the front),
// so a helper that wakes late can never claim a chunk of a newer call with an older call's operands.
using Clock = std::chrono::steady_clock;
constexpr int kSpinMicros = 300;

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
  // A generic job (parallelFor): chunk i runs task(taskCtx, i) instead of a GEMM chunk.
  void (*task)(void*, int) = nullptr;
  void* taskCtx = nullptr;
  std::atomic<bool> sleeping{false};  // the helper is (about to be) blocked on cv
  Scratch scratch;
  // The caller's view of the current call: its scratch (to tell its chunks from the helper's), how many
  // chunks it ran and how long it spent waiting on the helper.
  const Scratch* callerScratch = nullptr;
  int callerChunks = 0;
  Clock::duration callerWaited{};

  void runChunk(const Op& whole, int index, Scratch& s) {
    if (task) {
      task(taskCtx, index);
      return;
    }
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

  // Claims and runs chunks of generation `gen` until none are left. The caller takes chunks from the front and
  // the helper from the back (except in shared-B mode, whose first chunks must run first), so each thread gets
  // one contiguous part of C, or of an element-wise range, and the same part in consecutive calls of the same
  // shape: the forward pass, the optimizer's update and the next forward pass touch the same weights on the
  // same core.
  void work(uint32_t gen, const Op& whole, int n, Scratch& s) {
    const bool back = &s != callerScratch && !sharedB;
    for (;;) {
      uint64_t cur = claim.load(std::memory_order_acquire);
      int index;
      for (;;) {
        const int front = static_cast<int>(cur & 0xffffu), taken = static_cast<int>((cur >> 16) & 0xffffu);
        if (static_cast<uint32_t>(cur >> 32) != gen || front + taken >= n) return;
        index = back ? n - 1 - taken : front;
        if (claim.compare_exchange_weak(cur, cur + (back ? 0x10000u : 1u), std::memory_order_acq_rel)) break;
      }
      runChunk(whole, index, s);
      if (&s == callerScratch) callerChunks++;
      completed.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void helperLoop() {
    uint32_t seen = 0;
    for (;;) {
      // Spin for a while before sleeping: the calls of a training step come a fraction of a millisecond
      // apart, and waking a thread blocked in the kernel takes far longer than a spinning one needs to notice.
      // Not much longer than those gaps, as spinning takes a core from other processes on a busy machine. The
      // spin is bounded in time (pause lasts from a few to over a hundred cycles depending on the CPU).
      const auto spinUntil = Clock::now() + std::chrono::microseconds(kSpinMicros);
      for (int spin = 1; posted.load(std::memory_order_acquire) == seen; spin++) {
        _mm_pause();
        if (spin % 64 == 0 && Clock::now() > spinUntil) break;
      }
      if (posted.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(mu);
        sleeping.store(true);
        cv.wait(lock, [&] { return posted.load(std::memory_order_acquire) != seen; });
        sleeping.store(false, std::memory_order_relaxed);
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

  // Runs task(ctx, i) for i < n on both threads (same protocol as a GEMM call).
  bool runTasks(void (*fn)(void*, int), void* ctx, int n, Scratch& own) {
    task = fn;
    taskCtx = ctx;
    const bool stalled = run(Op{}, false, 1, n, own);
    task = nullptr;
    return stalled;
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
      posted.store(gen, std::memory_order_seq_cst);
    }
    // The helper sets `sleeping` under mu before it checks `posted` and blocks, so either it sees this job or
    // this sees it asleep (both seq_cst); a spinning helper needs no system call.
    if (sleeping.load()) cv.notify_one();
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
