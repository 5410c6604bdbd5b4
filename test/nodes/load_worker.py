"""Load (issue 7 item 2): many nodes and topics in one process, RELIABLE KEEP_ALL, steady publishing.

  load_worker.py --nodes A:B --total 50 --peer-offset 1 --topics 10 --rounds 40 --rate 1000

Hosts nodes A..B-1 of --total. Node i publishes on --topics topics /load/n<i>/t<j> and subscribes
(RELIABLE KEEP_ALL) to the --topics topics of node (i + --peer-offset) % --total: 2 x --topics
topics per node. After every publisher matched a subscription (--match-timeout), it publishes
--rounds rounds: one std_msgs/String '<round>' on each of its topics per round, paced at --rate
messages per second for the process. Then it waits (up to --drain s) until every subscribed topic
received --rounds messages and prints one JSON line
'LOAD {...}': rounds published, per-topic counts, out-of-order/duplicate counts, publish errors,
resident memory (KiB) after warm-up (a quarter of the run) and at the end, open file
descriptors and the soft RLIMIT_NOFILE.
"""

import argparse
import json
import os
import resource
import threading
import time

from common import announce_rmw, install_watchdog


def rss_kib():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') // 1024


def span(text):
    a, _, b = text.partition(':')
    return range(int(a), int(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--nodes', required=True)
    ap.add_argument('--total', type=int, required=True)
    ap.add_argument('--peer-offset', type=int, default=1)
    ap.add_argument('--topics', type=int, default=10)
    ap.add_argument('--rounds', type=int, required=True)
    ap.add_argument('--rate', type=float, default=1000)
    ap.add_argument('--match-timeout', type=float, default=60)
    ap.add_argument('--drain', type=float, default=30)
    ap.add_argument('--watchdog', type=float, default=300)
    a = ap.parse_args()
    install_watchdog(a.watchdog, 'load')
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String
    rclpy.init()
    announce_rmw('load')
    qos = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE)
    ex = SingleThreadedExecutor()
    owned = list(span(a.nodes))
    pubs = []
    counts, disorder = {}, [0]
    lock = threading.Lock()
    nodes = {}
    for i in owned:
        nodes[i] = rclpy.create_node(f'load_n{i}')
        ex.add_node(nodes[i])
    for i in owned:
        peer = (i + a.peer_offset) % a.total
        for j in range(a.topics):
            topic = f'/load/n{peer}/t{j}'
            counts[topic] = 0

            def cb(m, topic=topic):
                with lock:
                    n = counts[topic]
                    if int(m.data) != n:
                        disorder[0] += 1
                    counts[topic] = n + 1
            nodes[i].create_subscription(String, topic, cb, qos)
    for i in owned:
        for j in range(a.topics):
            pubs.append(nodes[i].create_publisher(String, f'/load/n{i}/t{j}', qos))
    print(f'load: {len(nodes)} nodes, {len(pubs)} publishers, {len(counts)} subscriptions', flush=True)

    spinning = [True]
    spinner = threading.Thread(target=lambda: [ex.spin_once(timeout_sec=0.05) for _ in iter(
        lambda: spinning[0], False)], daemon=True)
    spinner.start()
    deadline = time.monotonic() + a.match_timeout
    while time.monotonic() < deadline and any(p.get_subscription_count() < 1 for p in pubs):
        time.sleep(0.05)
    unmatched = sum(p.get_subscription_count() < 1 for p in pubs)
    print(f'load: matched ({unmatched} unmatched)', flush=True)

    rounds = a.rounds
    seconds = rounds * len(pubs) / a.rate
    errors = 0
    rss_warm = None
    t0 = time.monotonic()
    period = 1.0 / a.rate
    sent = 0
    for r in range(rounds):
        for p in pubs:
            try:
                p.publish(String(data=str(r)))
            except Exception as e:  # noqa: BLE001 - counted; the test expects none
                errors += 1
                if errors < 5:
                    print(f'load: publish failed: {e}', flush=True)
            sent += 1
            ahead = t0 + sent * period - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        if rss_warm is None and time.monotonic() - t0 >= seconds / 4:
            rss_warm = rss_kib()
    elapsed = time.monotonic() - t0
    expect = rounds
    deadline = time.monotonic() + a.drain
    while time.monotonic() < deadline:
        with lock:
            if all(c >= expect for c in counts.values()):
                break
        time.sleep(0.05)
    # Stay until the peers are done too (their subscriptions drain our publishers).
    time.sleep(1.0)
    with lock:
        snapshot = dict(counts)
    report = {
        'rounds': rounds, 'published': sent, 'publish_errors': errors, 'seconds': round(elapsed, 2),
        'rate': round(sent / elapsed, 1) if elapsed else 0, 'expect': expect,
        'short_topics': sum(c < expect for c in snapshot.values()),
        'extra_topics': sum(c > expect for c in snapshot.values()),
        'received': sum(snapshot.values()), 'out_of_order': disorder[0],
        'rss_warm_kib': rss_warm, 'rss_end_kib': rss_kib(),
        'fds': len(os.listdir('/proc/self/fd')),
        'nofile_soft': resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    }
    print('LOAD ' + json.dumps(report), flush=True)
    spinning[0] = False
    spinner.join(timeout=5)
    for n in nodes.values():
        n.destroy_node()
    rclpy.shutdown()


if __name__ == '__main__':
    main()
