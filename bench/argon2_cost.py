"""What one Argon2id verification costs here, for the portal's parameters and alternatives.

Run with `make bench-argon2`. Prints CPU and wall time per verification (median of many),
and the bound the two verifications of a home login (the parent's password and the
child's PIN) put on complete home logins per second.
"""

from __future__ import annotations

import os
import statistics
import time

import argon2

from basispoort.lib.hashers import ChildSecretArgon2Hasher, PortalArgon2Hasher

PASSWORD = ("password", PortalArgon2Hasher.memory_cost, PortalArgon2Hasher.time_cost, 1)
PIN = ("PIN", ChildSecretArgon2Hasher.memory_cost, ChildSecretArgon2Hasher.time_cost, 1)
CANDIDATES = [PASSWORD, PIN, ("(stronger)", 64 * 1024, 3, 1)]
ROUNDS = 25


def measure(memory_kib: int, time_cost: int, lanes: int) -> tuple[float, float]:
    hasher = argon2.PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=lanes, type=argon2.Type.ID
    )
    stored = hasher.hash("2468")
    hasher.verify(stored, "2468")  # warm up
    cpu, wall = [], []
    for _ in range(ROUNDS):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        hasher.verify(stored, "2468")
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started_wall)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    cores = os.cpu_count() or 1
    print(f"Argon2id, one verification, median of {ROUNDS}; {cores} cores")
    print(f"{'':12} {'m (MiB)':>8} {'t':>3} {'p':>3} {'CPU ms':>8} {'wall ms':>8}")
    cpu_of = {}
    for name, memory, time_cost, lanes in CANDIDATES:
        cpu, wall = measure(memory, time_cost, lanes)
        cpu_of[name] = cpu
        print(
            f"{name:12} {memory // 1024:>8} {time_cost:>3} {lanes:>3} "
            f"{cpu * 1000:>8.1f} {wall * 1000:>8.1f}"
        )
    bound = cores / (cpu_of[PASSWORD[0]] + cpu_of[PIN[0]])
    print(
        f"Bound: {bound:.1f} complete home logins per second "
        "(cores ÷ CPU of one password and one PIN verification)"
    )


if __name__ == "__main__":
    main()
