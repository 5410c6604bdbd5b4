#!/usr/bin/env python3
"""Runs a (non-Python) demo program, e.g. the r2r talker, under the test fixtures' rules: its output
goes to this process's stdout, it is stopped (SIGINT, then SIGKILL) after --duration seconds, and
the watchdog ends it in any case. Exit code: the program's, or 0 when it was stopped on time.

    demo_exec.py --duration 5 --watchdog 30 -- /path/to/r2r_talker [args...]
"""

import argparse
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('--duration', type=float, default=0.0, help='stop it after this (0: never)')
    ap.add_argument('--watchdog', type=float, default=0.0, help='exit after this many seconds')
    ap.add_argument('cmd', nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ['--'] else args.cmd
    if not cmd:
        ap.error('no program given')
    name = os.path.basename(cmd[0])
    common.install_watchdog(args.watchdog, name)
    print(f'exec: {" ".join(cmd)}', flush=True)
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    try:
        rc = p.wait(timeout=args.duration if args.duration > 0 else None)
        print(f'exec: {name} exited with {rc}', flush=True)
        return rc
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        print(f'exec: {name} stopped after {args.duration} s', flush=True)
        return 0
    except KeyboardInterrupt:
        p.send_signal(signal.SIGINT)
        p.wait()
        return 0


if __name__ == '__main__':
    sys.exit(main())
