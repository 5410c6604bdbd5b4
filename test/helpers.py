"""Helpers shared by the test modules (the fixtures are in conftest.py)."""

import json
import os
import sys
from pathlib import Path

from conftest import NODES, ros_env_singleton

sys.path.insert(0, str(NODES))
import msgutil  # noqa: E402

RANDOM_PER_TYPE = int(os.environ.get('RMW_SHM_RS_TEST_RANDOM', '4'))
SEED = os.environ.get('RMW_SHM_RS_TEST_SEED', '20251121')


def _all_types():
    try:
        env = ros_env_singleton().fastrtps_env
    except Exception:  # noqa: BLE001 - reported by the `ros` fixture
        return []
    return msgutil.all_types(env.get('AMENT_PREFIX_PATH', ''))


ALL_TYPES = _all_types()


def read_jsonl(path):
    out = {}
    if Path(path).exists():
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        r = json.loads(line)
                    except ValueError:
                        continue  # a line cut short by a crash
                    out[r['i']] = r
    return out


def run_resumable(launcher, name, side, n, out, args, timeout=180, max_restarts=25):
    """Run serdes_worker.py over entries 0..n-1; if it dies on an entry, record that entry as
    crashed and resume after it. Returns {index: result dict} for every index."""
    out = Path(out)
    start = 0
    crashed = {}
    restarts = 0
    while start < n:
        p = launcher.start(f'{name}_from{start}', 'serdes_worker.py', *args, '--out', out,
                           '--start', start, '--watchdog', timeout, side=side)
        rc = launcher.wait(p, timeout + 10)
        done = read_jsonl(out)
        missing = [i for i in range(start, n) if i not in done]
        if not missing:
            break
        want = launcher.ros.ids[side]
        why = f'{name}: worker {p.describe_exit()}'
        if f'RMW {want}' not in p.output():
            # It never got going (library failed to load, wrong RMW, ...): no point resuming.
            for i in missing:
                crashed[i] = f'{why} before processing anything (not on {want}?):\n{p.tail(25)}'
            break
        crashed[missing[0]] = f'{why} while on this entry:\n{p.tail(15)}'
        start = missing[0] + 1
        restarts += 1
        if rc == 0 or restarts > max_restarts:
            for i in missing[1:]:
                crashed[i] = f'{why}; gave up after {restarts} restarts'
            break
    done = read_jsonl(out)
    for i, msg in crashed.items():
        done.setdefault(i, {'i': i, 'ok': False, 'error': msg})
    for i in range(n):
        done.setdefault(i, {'i': i, 'ok': False, 'error': f'{name}: no result'})
    return done
