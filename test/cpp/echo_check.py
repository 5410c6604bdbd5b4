#!/usr/bin/env python3
"""The rclpy side of test/test_cpp.py: publishes every pickled instance on /cpp_in/<type> and
expects the C++ echo program (test/cpp/echo.cpp) to send each back, equal, on /cpp_out/<type>.

  echo_check.py --instances F.pkl --out R.json [--depth 100] [--timeout 60]

Waits until every publisher has matched the echo's subscription and every subscription the echo's
publisher, publishes every instance in order, receives until each type has all its echoes (or
--timeout), compares them (msgutil.compare; keyed types as a multiset) and writes R: each type ->
{"expected", "received": {"echo": n}, "problems": [...]} (the format of pubsub_worker.py).
"""

import argparse
import json
import os
import pickle
import sys
import time

NODES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'nodes')
sys.path.insert(0, NODES)

import common  # noqa: E402
import msgutil  # noqa: E402
from pubsub_worker import by_type, check  # noqa: E402


def suffix(type_name):
    return type_name.replace('/', '_')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--instances', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--depth', type=int, default=100)
    ap.add_argument('--match-timeout', type=float, default=30.0)
    ap.add_argument('--timeout', type=float, default=60.0)
    ap.add_argument('--watchdog', type=float, default=180.0)
    args = ap.parse_args()
    name = 'echo_check'
    common.install_watchdog(args.watchdog, name)

    with open(args.instances, 'rb') as f:
        groups = by_type(pickle.load(f))

    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=args.depth,
                     reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
    rclpy.init()
    common.announce_rmw(name)
    node = rclpy.create_node('cpp_echo_check')
    executor = SingleThreadedExecutor()
    executor.add_node(node)

    def spin(t):
        executor.spin_once(timeout_sec=t)

    received = {t: [] for t in groups}
    pubs, subs = {}, {}
    try:
        for t in groups:
            cls = msgutil.import_type(t)
            subs[t] = node.create_subscription(cls, '/cpp_out/' + suffix(t), received[t].append, qos)
            pubs[t] = node.create_publisher(cls, '/cpp_in/' + suffix(t), qos)

        def matched():
            return all(p.get_subscription_count() >= 1 for p in pubs.values()) and \
                all(s.get_publisher_count() >= 1 for s in subs.values())

        if not common.wait_until(matched, args.match_timeout, spin=spin):
            counts = {t: (pubs[t].get_subscription_count(), subs[t].get_publisher_count())
                      for t in groups}
            print(f'{name}: not every topic matched the echo within {args.match_timeout} s '
                  f'(type: (subscriptions of /cpp_in, publishers of /cpp_out)): {counts}', flush=True)
            return 2
        print(f'{name}: all {len(groups)} types matched both ways', flush=True)
        n = 0
        for t, es in groups.items():
            for e in es:
                pubs[t].publish(e['msg'])
                n += 1
        print(f'{name}: published {n} messages', flush=True)

        start = time.monotonic()
        finished = common.wait_until(
            lambda: all(len(received[t]) >= len(es) for t, es in groups.items()),
            args.timeout, step=0.05, spin=spin)
        common.wait_until(lambda: False, 0.2, step=0.05, spin=spin)  # catch extra echoes
        print(f'{name}: {"all echoed" if finished else "TIMEOUT"} after '
              f'{time.monotonic() - start:.1f} s', flush=True)
        result = {}
        for t, es in groups.items():
            msgs = received[t]
            result[t] = {'expected': len(es), 'received': {'echo': len(msgs)},
                         'problems': check(es, msgs, ordered=not msgutil.is_keyed(t))}
        tmp = args.out + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(result, f, indent=1)
        os.replace(tmp, args.out)
        bad = [t for t, r in result.items() if r['problems']]
        print(f'{name}: {len(result) - len(bad)} of {len(result)} types OK'
              f'{": bad " + " ".join(bad) if bad else ""}', flush=True)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        for p in pubs.values():
            node.destroy_publisher(p)
        common.shutdown(node)


if __name__ == '__main__':
    sys.exit(main())
