"""How the reference scripts time their step for `pnpm bench` (imported by mlp_numpy.py and mlp_torch.py).

Standalone (`script.py REPS ...`) they time REPS repetitions and print one JSON line. With --serve they are one
contender of the bench's interleaved rounds: {"ready": true} once warmed up, then one repetition per "rep" line
read from stdin, answered with {"samplesPerSecond": x}; "done" (or the end of stdin) prints the final line.
"""

import json
import sys
import time


# As bench/contenders.mjs: each repetition lasts about this long, its step count set from 10 timed steps.
REPETITION_SECONDS = 0.25


def one_repetition(step, steps, batch):
    for _ in range(-(-steps // 5)):  # untimed, as in contenders.mjs
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - t0)


def run_repetitions(step, batch, reps, final):
    """final() -> dict printed last (version, GEMM rates, ...); standalone it also gets the rates."""
    t0 = time.perf_counter()
    for _ in range(10):
        step()
    steps = max(4, round(REPETITION_SECONDS / ((time.perf_counter() - t0) / 10)))
    if "--serve" not in sys.argv:
        rates = [one_repetition(step, steps, batch) for _ in range(reps)]
        print(json.dumps({"samplesPerSecond": rates, **final()}))
        return
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "rep":
            break
        print(json.dumps({"samplesPerSecond": one_repetition(step, steps, batch)}), flush=True)
    print(json.dumps(final()), flush=True)
