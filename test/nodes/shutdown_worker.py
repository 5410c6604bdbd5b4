#!/usr/bin/env python3
"""rclpy worker for the shutdown tests (test/test_shutdown.py).

  shutdown_worker.py spin --role talker|listener
      rclpy.spin(node) (a blocking wait in rmw_wait) with a 20 Hz publishing timer (talker) or a
      subscription (listener) on /shutdown_chatter, until SIGINT. Prints 'ready', every message
      ("heard: '<data>'"), then '<role>: interrupted (<how>)' and exits 0.

  shutdown_worker.py teardown
      One node with a publisher, subscription, service, client, timer and guard condition; one
      message and one service call go through; then rclpy.shutdown() with everything alive,
      every entity destroyed twice afterwards, destroy_node twice, rclpy.shutdown() twice more
      (RuntimeError expected), then a second rclpy.init in the same process that works again.
      Prints 'teardown: <step> <result>' lines and 'teardown: OK'.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

TOPIC = 'shutdown_chatter'


def spin(role):
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from std_msgs.msg import String

    rclpy.init()
    common.announce_rmw(role)
    node = rclpy.create_node(f'shutdown_{role}')
    count = [0]
    if role == 'talker':
        pub = node.create_publisher(String, TOPIC, 10)

        def tick():
            count[0] += 1
            pub.publish(String(data=f'tick {count[0]}'))
        node.create_timer(0.05, tick)
    else:
        def on_msg(msg):
            count[0] += 1
            print(f"heard: '{msg.data}'", flush=True)
        node.create_subscription(String, TOPIC, on_msg, 10)
    print(f'{role}: ready', flush=True)
    how = 'spin returned'
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        how = 'KeyboardInterrupt'
    except ExternalShutdownException:
        how = 'ExternalShutdownException'
    print(f'{role}: interrupted ({how}) after {count[0]} messages', flush=True)
    common.shutdown(node)
    print(f'{role}: exiting', flush=True)
    return 0


def step(name, fn):
    try:
        r = fn()
        print(f'teardown: {name} -> {r!r}', flush=True)
        return r
    except Exception as e:  # noqa: BLE001 - the test checks which steps raise what
        print(f'teardown: {name} raised {type(e).__name__}: {e}', flush=True)
        return e


def roundtrip(rclpy, node, tag):
    """One message and one service call through `node`; True when both arrived."""
    from std_msgs.msg import String
    from test_msgs.srv import BasicTypes

    got = []

    def answer(req, resp):
        resp.int64_value = req.int64_value + 1
        return resp

    ents = {
        'pub': node.create_publisher(String, f'{TOPIC}_{tag}', 10),
        'sub': node.create_subscription(String, f'{TOPIC}_{tag}', lambda m: got.append(m.data), 10),
        'srv': node.create_service(BasicTypes, f'shutdown_srv_{tag}', answer),
        'cli': node.create_client(BasicTypes, f'shutdown_srv_{tag}'),
        'timer': node.create_timer(0.5, lambda: None),
        'gc': node.create_guard_condition(lambda: None),
    }
    if not ents['cli'].wait_for_service(timeout_sec=10):
        return False, ents
    req = BasicTypes.Request()
    req.int64_value = 41
    fut = ents['cli'].call_async(req)
    deadline = time.monotonic() + 10
    while (not got or not fut.done()) and time.monotonic() < deadline:
        ents['pub'].publish(String(data=f'{tag} hello'))
        rclpy.spin_once(node, timeout_sec=0.05)
    ok = bool(got) and fut.done() and fut.result().int64_value == 42
    return ok, ents


def teardown():
    import rclpy

    rclpy.init()
    common.announce_rmw('teardown')
    node = rclpy.create_node('shutdown_teardown')
    ok, ents = roundtrip(rclpy, node, 'first')
    print(f'teardown: first roundtrip {ok}', flush=True)
    if not ok:
        return 2
    step('shutdown with live entities', rclpy.shutdown)
    destroy = {'pub': node.destroy_publisher, 'sub': node.destroy_subscription,
               'srv': node.destroy_service, 'cli': node.destroy_client,
               'timer': node.destroy_timer, 'gc': node.destroy_guard_condition}
    for name, ent in ents.items():
        for k in (1, 2):
            step(f'destroy {name} #{k}', lambda: destroy[name](ent))
            step(f'{name}.destroy() #{k}', ent.destroy)
    step('destroy_node #1', node.destroy_node)
    step('destroy_node #2', node.destroy_node)
    step('shutdown #2', rclpy.shutdown)
    step('shutdown #3', rclpy.shutdown)
    step('try_shutdown', rclpy.try_shutdown)

    # The process keeps working: a second context, the same round trip.
    rclpy.init()
    node2 = rclpy.create_node('shutdown_teardown_again')
    ok, _ = roundtrip(rclpy, node2, 'second')
    print(f'teardown: second roundtrip {ok}', flush=True)
    common.shutdown(node2)
    if not ok:
        return 2
    print('teardown: OK', flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('mode', choices=('spin', 'teardown'))
    ap.add_argument('--role', choices=('talker', 'listener'), default='talker')
    ap.add_argument('--watchdog', type=float, default=0.0)
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, 'shutdown_worker')
    if args.mode == 'spin':
        return spin(args.role)
    return teardown()


if __name__ == '__main__':
    sys.exit(main())
