#!/usr/bin/env python3
"""rclpy node for the security tests (test/test_security.py).

  sec_node.py init                      rclpy.init only: prints 'sec_node: init failed: <error>' and
                                        exits 3, or 'sec_node: RMW <id>' and exits 0
  sec_node.py talker --secret S         publishes 'S <n>' on /sec_chatter every --period s until
                                        stopped (or --count messages)
  sec_node.py listener                  prints "heard: '<data>'" for each message on /sec_chatter
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

TOPIC = 'sec_chatter'


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('mode', choices=('init', 'talker', 'listener'))
    ap.add_argument('--secret', default='secret')
    ap.add_argument('--count', type=int, default=0, help='0 = until stopped')
    ap.add_argument('--period', type=float, default=0.1)
    ap.add_argument('--watchdog', type=float, default=0.0)
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, 'sec_node')

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from std_msgs.msg import String

    try:
        rclpy.init()
    except Exception as e:  # noqa: BLE001 - the error text is what the test checks
        print(f'sec_node: init failed: {type(e).__name__}: {e}', flush=True)
        return 3
    common.announce_rmw('sec_node')
    if args.mode == 'init':
        rclpy.shutdown()
        return 0

    node = rclpy.create_node(f'sec_{args.mode}')
    heard = []
    try:
        if args.mode == 'talker':
            pub = node.create_publisher(String, TOPIC, 10)
            n = 0
            while args.count == 0 or n < args.count:
                n += 1
                pub.publish(String(data=f'{args.secret} {n}'))
                if n == 1:
                    print('sec_node: publishing', flush=True)
                rclpy.spin_once(node, timeout_sec=args.period)
        else:
            def on_msg(msg):
                heard.append(msg.data)
                print(f"heard: '{msg.data}'", flush=True)

            node.create_subscription(String, TOPIC, on_msg, 10)
            print('sec_node: ready', flush=True)
            while args.count == 0 or len(heard) < args.count:
                rclpy.spin_once(node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        common.shutdown(node)
    print(f'sec_node: done ({len(heard)} heard)', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
