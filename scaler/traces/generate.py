#!/usr/bin/env python3
"""Regenerates the shipped demand traces (deterministic: fixed seeds). Usage: generate.py [dir]"""
import math
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "."


def write(name, header, rows):
    with open(f"{out}/{name}", "w") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")


# Two working days: demand follows the office day (trough 8 pods at night, peak ~27 at 13:00);
# on-prem holds 20 pods of 1 vCPU / 4 GiB.
rng = random.Random(6)
rows = []
for t in range(0, 2 * 86400, 60):
    hour = (t % 86400) / 3600
    day = 8 + 19 * max(0.0, math.sin(math.pi * (hour - 7) / 12)) ** 1.5 if 7 <= hour <= 19 else 8
    rows.append((t, max(0, round(day + rng.gauss(0, 0.6))), 20))
write("daily-cycle.csv", "t_seconds,demand_pods,onprem_capacity_pods", rows)

# A seasonal campaign: three days at a steady 14 pods of 2 vCPU / 6 GiB on 18 on-prem slots, and
# on the second day a campaign that ramps to 28 pods between 09:00 and 15:00.
rng = random.Random(7)
rows = []
for t in range(0, 3 * 86400, 60):
    hour = t / 3600 - 24
    base = 14
    if 9 <= hour < 15:
        ramp = min(1.0, (hour - 9) / 1.0, (15 - hour) / 1.5)
        base += 14 * ramp
    rows.append((t, max(0, round(base + rng.gauss(0, 0.8))), 18, 2, 6))
write("campaign-spike.csv", "t_seconds,demand_pods,onprem_capacity_pods,pod_cpu,pod_memory_gib",
      rows)

# Six noisy hours around on-prem capacity: a random walk plus jitter, sampled every 30 s.
rng = random.Random(8)
rows = []
level = 19.0
for t in range(0, 6 * 3600, 30):
    level += rng.gauss(0, 0.35)
    level = min(26.0, max(14.0, level + (19.0 - level) * 0.02))
    rows.append((t, max(0, round(level + rng.gauss(0, 1.6))), 20))
write("noisy.csv", "t_seconds,demand_pods,onprem_capacity_pods", rows)
