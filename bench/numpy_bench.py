#!/usr/bin/env python3
"""MB/s of a 4 MiB sensor_msgs/Image stream between two rclpy processes (issue 6 item 5).

  bench/numpy_bench.py [--seconds 5] [--mib 4] [--repeat 3] [--json out.json]

Three configurations, each a publisher + subscriber pair of test/nodes/numpy_worker.py run alone
(publisher back to back, reliable keep-last 10; the subscriber counts what it receives for
--seconds after its first message):

  helper/rmw_shm_rs       python/rmw_shm_rs_numpy.py: publish image_to_cdr(arr) (serialized),
                          receive raw=True -> image_array(raw) (numpy view, no copy)
  plain/rmw_fastrtps_cpp  plain rclpy: msg.data = arr.tobytes(); publish(msg);
                          receive msg -> np.asarray(msg.data)
  plain/rmw_shm_rs        the same plain rclpy code on rmw_shm_rs
  helper/rmw_fastrtps_cpp the helper on stock Fast DDS (for reference)
  helper/rmw_shm_rs+malloc the helper with glibc's heap kept (MALLOC_TRIM_THRESHOLD_,
                          MALLOC_MMAP_THRESHOLD_, MALLOC_TOP_PAD_): each 4 MiB Python bytes
                          object otherwise grows and trims the heap, and the page faults of the
                          fresh pages cost more than the copies themselves

Each configuration runs --repeat times; the run with the median MB/s is reported (the two
processes share the 2 cores, so single runs vary by 2x).

Needs target/rmw_shm_rs.env (scripts/bootstrap.sh). Random ROS_DOMAIN_ID, discovery LOCALHOST.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKER = REPO / 'test' / 'nodes' / 'numpy_worker.py'
ENV_FILE = Path(os.environ.get('RMW_SHM_RS_ENV_FILE', REPO / 'target' / 'rmw_shm_rs.env'))


def load_envs():
    base = {k: v for k, v in os.environ.items()
            if k not in ('LD_PRELOAD', 'RMW_IMPLEMENTATION', 'ROS_DOMAIN_ID')}
    out = subprocess.run(['bash', '-c', 'set -a; . "$1" >/dev/null; exec env -0', 'env',
                          str(ENV_FILE)], env=base, capture_output=True, check=True)
    env = dict(i.decode().partition('=')[::2] for i in out.stdout.split(b'\0') if i)
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    env['PYTHONUNBUFFERED'] = '1'
    ours = dict(env)
    fast = {k: v for k, v in env.items() if k != 'LD_PRELOAD'}
    if env.get('RMW_SHM_RS_MODE', 'pypi') == 'pypi':
        fast.pop('RMW_IMPLEMENTATION', None)
    else:
        fast['RMW_IMPLEMENTATION'] = 'rmw_fastrtps_cpp'
    return env.get('RMW_SHM_RS_PYTHON') or sys.executable, {'rmw_shm_rs': ours,
                                                            'rmw_fastrtps_cpp': fast}


MALLOC_KEEP = {'MALLOC_TRIM_THRESHOLD_': str(256 << 20), 'MALLOC_MMAP_THRESHOLD_': str(256 << 20),
               'MALLOC_TOP_PAD_': str(64 << 20)}


def run_one(python, env, api, seconds, mib):
    env = dict(env, ROS_DOMAIN_ID=str(random.randrange(1, 200)))
    common = ['--kind', 'image', '--api', api, '--mib', str(mib), '--seconds', str(seconds),
              '--watchdog', str(seconds + 40), '--wait-match', '20']
    sub = subprocess.Popen([python, '-u', str(WORKER), 'sub', *common], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    pub = subprocess.Popen([python, '-u', str(WORKER), 'pub', *common], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sout, _ = sub.communicate(timeout=seconds + 60)
    try:
        pout, _ = pub.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        pub.kill()
        pout, _ = pub.communicate()
    rmw = re.findall(r'RMW (\S+)', sout)
    m = re.search(r'RESULT (\{.*\})', sout)
    if not m:
        raise RuntimeError(f'no result:\n--- sub\n{sout}\n--- pub\n{pout}')
    res = json.loads(m.group(1))
    res['rmw'] = rmw[0] if rmw else '?'
    pm = re.search(r'published (\d+) messages', pout)
    res['published'] = int(pm.group(1)) if pm else None
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seconds', type=float, default=5.0)
    ap.add_argument('--mib', type=float, default=4.0)
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--json')
    ap.add_argument('--only', help='comma list of labels to run')
    args = ap.parse_args()
    python, envs = load_envs()
    configs = [('helper', 'rmw_shm_rs', ''), ('plain', 'rmw_fastrtps_cpp', ''),
               ('plain', 'rmw_shm_rs', ''), ('helper', 'rmw_fastrtps_cpp', ''),
               ('helper', 'rmw_shm_rs', '+malloc')]
    results = []
    print(f'{args.mib} MiB sensor_msgs/Image, {args.seconds} s each, median of {args.repeat}; '
          f'load {os.getloadavg()}')
    print(f'{"config":26} {"rmw seen":18} {"msgs":>6} {"msg/s":>8} {"MB/s":>9}  all MB/s')
    for api, rmw, variant in configs:
        label = f'{api}/{rmw}{variant}'
        if args.only and label not in args.only.split(','):
            continue
        env = dict(envs[rmw], **(MALLOC_KEEP if variant == '+malloc' else {}))
        runs = sorted((run_one(python, env, api, args.seconds, args.mib)
                       for _ in range(args.repeat)), key=lambda r: r['MBps'])
        r = dict(runs[len(runs) // 2], config=label, all_MBps=[x['MBps'] for x in runs])
        results.append(r)
        print(f'{label:26} {r["rmw"]:18} {r["messages"]:6d} {r["msg_per_s"]:8.1f} {r["MBps"]:9.1f}  '
              + ' '.join(f'{x:.0f}' for x in r['all_MBps']), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
