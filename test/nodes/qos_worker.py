"""QoS test node.

  tl_pub     TRANSIENT_LOCAL publisher (depth --depth) on --topic; publishes --count strings 'm<i>',
             prints 'tl_pub: published', stays quiet for --quiet seconds, then publishes 'live<i>'
             every 0.1 s until killed.
  sub        subscription with --reliability/--durability/--depth on --topic; prints 'sub: ready',
             then every message as 'GOT <data>' for --duration seconds.
  be_pub     BEST_EFFORT publisher on --topic publishing 'be<i>' every 0.05 s until killed.
  burst_pub  RELIABLE publisher: waits for a subscription, publishes --count strings 'k<i>' back to
             back, prints 'burst_pub: done <failures>'.
  keep_all_sub  RELIABLE KEEP_ALL subscription that sleeps 2 ms per message; prints every message
             ('GOT <data>') until --count arrived or --duration passed.
"""

import argparse
import time

from common import announce_rmw, install_watchdog


def qos(args, reliability='reliable', durability='volatile'):
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=args.depth,
                      reliability=getattr(ReliabilityPolicy, reliability.upper()),
                      durability=getattr(DurabilityPolicy, durability.upper()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['tl_pub', 'sub', 'be_pub', 'burst_pub', 'keep_all_sub'])
    ap.add_argument('--topic', default='/qos_topic')
    ap.add_argument('--depth', type=int, default=5)
    ap.add_argument('--count', type=int, default=10)
    ap.add_argument('--reliability', default='reliable')
    ap.add_argument('--durability', default='volatile')
    ap.add_argument('--duration', type=float, default=3.0)
    ap.add_argument('--quiet', type=float, default=2.0)
    ap.add_argument('--watchdog', type=float, default=60)
    a = ap.parse_args()
    install_watchdog(a.watchdog, a.mode)
    import rclpy
    from std_msgs.msg import String
    rclpy.init()
    announce_rmw(a.mode)
    node = rclpy.create_node(f'qos_{a.mode}')
    if a.mode == 'burst_pub':
        pub = node.create_publisher(String, a.topic, qos(a))
        while pub.get_subscription_count() < 1:
            rclpy.spin_once(node, timeout_sec=0.02)
        failures = 0
        for i in range(a.count):
            try:
                pub.publish(String(data=f'k{i}'))
            except Exception as e:  # noqa: BLE001 - counted; the test expects none
                failures += 1
                print(f'publish failed: {e!r}', flush=True)
        print(f'burst_pub: done {failures}', flush=True)
        end = time.monotonic() + a.duration
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
        rclpy.shutdown()
        return
    if a.mode == 'keep_all_sub':
        from rclpy.qos import HistoryPolicy, QoSProfile
        got = []

        def slow(m):
            got.append(m.data)
            print(f'GOT {m.data}', flush=True)
            time.sleep(0.002)
        node.create_subscription(String, a.topic, slow, QoSProfile(history=HistoryPolicy.KEEP_ALL))
        end = time.monotonic() + a.duration
        while len(got) < a.count and time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
        print('sub: done', flush=True)
        rclpy.shutdown()
        return
    if a.mode in ('tl_pub', 'be_pub'):
        q = qos(a, 'best_effort' if a.mode == 'be_pub' else 'reliable',
                'transient_local' if a.mode == 'tl_pub' else 'volatile')
        pub = node.create_publisher(String, a.topic, q)
        if a.mode == 'tl_pub':
            for i in range(a.count):
                pub.publish(String(data=f'm{i}'))
            print('tl_pub: published', flush=True)
            # Quiet for a while, so that what a late joiner gets first is the history.
            end = time.monotonic() + a.quiet
            while time.monotonic() < end:
                rclpy.spin_once(node, timeout_sec=0.05)
        i = 0
        while True:
            pub.publish(String(data=f'{"live" if a.mode == "tl_pub" else "be"}{i}'))
            i += 1
            rclpy.spin_once(node, timeout_sec=0.1 if a.mode == 'tl_pub' else 0.05)
    else:
        node.create_subscription(String, a.topic, lambda m: print(f'GOT {m.data}', flush=True),
                                 qos(a, a.reliability, a.durability))
        print('sub: ready', flush=True)
        end = time.monotonic() + a.duration
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
        print('sub: done', flush=True)
    rclpy.shutdown()


if __name__ == '__main__':
    main()
