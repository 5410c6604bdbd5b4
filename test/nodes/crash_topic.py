#!/usr/bin/env python3
"""Publisher and subscription roles for the crash loops of test/test_crash.py (std_msgs/String).

  pub  publishes '<tag>:<n>' every --period s until stopped. Prints 'pub: publishing' after the
       first message and 'PUBLISH <n> ok|error <seconds> <t> [<error>]' for every publish that
       failed or took longer than --slow s; at exit 'STATS published=.. errors=.. max=<s>'.
  sub  prints 'sub: ready', then 'FIRST <tag> <t>' for the first message of every publisher tag;
       with --take N it stops taking after N messages ('STOPPED <t>'), so its queue fills.
       At exit 'STATS received=.. tags=..'.
Both can watch the graph (--watch) and wait for SIGUSR1 before creating their endpoint (--arm).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from crash_common import run_node, add_common_args, emit, now  # noqa: E402


def qos_of(args):
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    return QoSProfile(history=getattr(HistoryPolicy, args.history.upper()), depth=args.depth,
                      reliability=getattr(ReliabilityPolicy, args.reliability.upper()))


def run_pub(args, node, watch, spin):
    import rclpy
    from std_msgs.msg import String
    pub = node.create_publisher(String, args.topic, qos_of(args))
    n = errors = 0
    longest = 0.0
    try:
        while True:
            n += 1
            msg = String(data=f'{args.tag}:{n}')
            t0 = now()
            err = None
            try:
                pub.publish(msg)
            except Exception as e:  # noqa: BLE001 - reported; the test judges it
                if not rclpy.ok():
                    break  # SIGINT shut the context down
                err = e
                errors += 1
            dt = now() - t0
            longest = max(longest, dt)
            if err is not None or dt > args.slow:
                emit('PUBLISH', n, 'error' if err else 'ok', f'{dt:.3f}', f'{t0:.4f}',
                     repr(err).replace('\n', ' ') if err else '')
            if n == 1:
                emit('pub: publishing')
            spin(args.period)
            watch.poll()
    finally:
        emit('STATS', f'published={n}', f'errors={errors}', f'max={longest:.3f}')


def run_sub(args, node, watch, spin):
    from std_msgs.msg import String
    counts = {}

    def on_msg(msg):
        tag = msg.data.partition(':')[0]
        if tag not in counts:
            emit('FIRST', tag, f'{now():.4f}')
            counts[tag] = 0
        counts[tag] += 1

    node.create_subscription(String, args.topic, on_msg, qos_of(args))
    emit('sub: ready')
    stopped = False
    try:
        while True:
            if args.take and sum(counts.values()) >= args.take:
                if not stopped:
                    emit('STOPPED', f'{now():.4f}')
                    stopped = True
                time.sleep(0.01)
            else:
                spin(0.01)
            watch.poll()
    finally:
        emit('STATS', f'received={sum(counts.values())}', f'tags={len(counts)}')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('role', choices=['pub', 'sub'])
    add_common_args(ap)
    ap.add_argument('--topic', default='/crash')
    ap.add_argument('--reliability', default='reliable', choices=['reliable', 'best_effort'])
    ap.add_argument('--history', default='keep_last', choices=['keep_last', 'keep_all'])
    ap.add_argument('--depth', type=int, default=10)
    ap.add_argument('--period', type=float, default=0.001, help='pub: seconds between messages')
    ap.add_argument('--slow', type=float, default=0.05, help='pub: report publishes slower than this')
    ap.add_argument('--take', type=int, default=0, help='sub: stop taking after this many, 0: never')
    args = ap.parse_args()
    args.tag = args.tag or args.node
    common.install_watchdog(args.watchdog, f'crash_topic {args.role}')

    return run_node(args, f'crash_topic {args.role}',
                    run_pub if args.role == 'pub' else run_sub)


if __name__ == '__main__':
    sys.exit(main())
