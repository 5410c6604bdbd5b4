#!/usr/bin/env python3
"""Publishes / receives pickled message instances, one topic per message type.

  pub   --instances F.pkl [--done-file D]          publisher process: waits until every topic has a
                                                   matched subscription, publishes every instance in
                                                   order, then waits for D (the subscriber's result)
  sub   --instances F.pkl --out R.json             subscriber process: receives until every topic has
                                                   all its instances (or --timeout), compares, writes R
  intra --instances F.pkl --out R.json             publisher and two subscriptions (one on the same
                                                   node, one on a second node) in this one process

QoS everywhere: RELIABLE, KEEP_LAST --depth (larger than any batch), VOLATILE.
The result file maps each type to {"expected", "received": {sub: n}, "problems": [...]}.
"""

import argparse
import json
import os
import pickle
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import msgutil  # noqa: E402


def topic_of(type_name):
    return '/shm_test/' + type_name.replace('/', '_')


def by_type(entries):
    out = {}
    for e in entries:
        out.setdefault(e['type'], []).append(e)
    return out


def check(expected, received, ordered=True):
    """Problems (strings) comparing the expected entries with the received messages, in order
    (or, for keyed types, where DDS only orders samples per instance, as a multiset)."""
    problems = []
    if len(received) != len(expected):
        problems.append(f'received {len(received)} of {len(expected)} messages')
    if ordered:
        for k, (e, m) in enumerate(zip(expected, received)):
            d = msgutil.compare(e['msg'], m)
            if d:
                problems.append(f"message {k} ({e['label']}): {d}")
        return problems
    unmatched = list(received)
    for e in expected:
        for j, m in enumerate(unmatched):
            if msgutil.compare(e['msg'], m) is None:
                del unmatched[j]
                break
        else:
            near = msgutil.compare(e['msg'], unmatched[0]) if unmatched else 'nothing left'
            problems.append(f"{e['label']}: no equal message received (keyed type; e.g. {near})")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['pub', 'sub', 'intra'])
    ap.add_argument('--instances', required=True)
    ap.add_argument('--out')
    ap.add_argument('--done-file')
    ap.add_argument('--depth', type=int, default=100)
    ap.add_argument('--match-timeout', type=float, default=30.0)
    ap.add_argument('--timeout', type=float, default=60.0, help='receive / linger timeout')
    ap.add_argument('--watchdog', type=float, default=180.0)
    args = ap.parse_args()
    name = f'pubsub_worker {args.mode}'
    common.install_watchdog(args.watchdog, name)

    with open(args.instances, 'rb') as f:
        entries = pickle.load(f)
    groups = by_type(entries)

    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=args.depth,
                     reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
    rclpy.init()
    common.announce_rmw(name)
    node = rclpy.create_node(f'shm_test_{args.mode}')
    nodes = [node]
    executor = SingleThreadedExecutor()
    executor.add_node(node)

    def spin(t):
        executor.spin_once(timeout_sec=t)

    received = {}  # (type, subscription label) -> [messages]
    sub_labels = []

    def subscribe(n, t, label):
        box = received.setdefault((t, label), [])
        n.create_subscription(msgutil.import_type(t), topic_of(t), box.append, qos)

    pubs = {}
    try:
        if args.mode in ('sub', 'intra'):
            sub_labels = ['sub'] if args.mode == 'sub' else ['same_node', 'other_node']
            other = None
            if args.mode == 'intra':
                other = rclpy.create_node('shm_test_intra_other')
                nodes.append(other)
                executor.add_node(other)
            for t in groups:
                subscribe(node, t, sub_labels[0])
                if other is not None:
                    subscribe(other, t, sub_labels[1])
            print(f'{name}: ready ({len(groups)} topics)', flush=True)

        if args.mode in ('pub', 'intra'):
            need = 1 if args.mode == 'pub' else 2
            for t in groups:
                pubs[t] = node.create_publisher(msgutil.import_type(t), topic_of(t), qos)
            ok = common.wait_until(
                lambda: all(p.get_subscription_count() >= need for p in pubs.values()),
                args.match_timeout, spin=spin)
            counts = {t: p.get_subscription_count() for t, p in pubs.items()}
            if not ok:
                print(f'{name}: not every publisher matched {need} subscription(s) within '
                      f'{args.match_timeout} s: {counts}', flush=True)
                return 2
            print(f'{name}: all {len(pubs)} publishers matched', flush=True)
            for t, es in groups.items():
                for e in es:
                    pubs[t].publish(e['msg'])
            print(f'{name}: published {len(entries)} messages', flush=True)

        if args.mode == 'pub':
            if args.done_file:
                common.wait_until(lambda: os.path.exists(args.done_file), args.timeout, step=0.05, spin=spin)
            print(f'{name}: done', flush=True)
            return 0

        def complete():
            return all(len(received[(t, lab)]) >= len(es) for t, es in groups.items() for lab in sub_labels)

        start = time.monotonic()
        finished = common.wait_until(complete, args.timeout, step=0.05, spin=spin)
        # A moment more to catch duplicates or extra messages.
        common.wait_until(lambda: False, 0.2, step=0.05, spin=spin)
        print(f'{name}: {"all received" if finished else "TIMEOUT"} after '
              f'{time.monotonic() - start:.1f} s', flush=True)
        result = {}
        for t, es in groups.items():
            r = {'expected': len(es), 'received': {}, 'problems': []}
            for lab in sub_labels:
                msgs = received[(t, lab)]
                r['received'][lab] = len(msgs)
                r['problems'] += [f'{lab}: {p}' for p in check(es, msgs, ordered=not msgutil.is_keyed(t))]
            result[t] = r
        tmp = args.out + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(result, f, indent=1)
        os.replace(tmp, args.out)
        bad = [t for t, r in result.items() if r['problems']]
        print(f'{name}: {len(result) - len(bad)} of {len(result)} types OK', flush=True)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        for p in pubs.values():
            node.destroy_publisher(p)
        common.shutdown(*nodes)


if __name__ == '__main__':
    sys.exit(main())
