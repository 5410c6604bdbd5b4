#!/usr/bin/env python3
"""Demo service: an "add two ints" server and client.

  server   answers <service> requests with a + b
  client   waits for the server, then makes --count calls, at most --rate per second, and prints
           "Result of add_two_ints: a + b = sum" for each, then
           "client: TOTAL calls=<n> ok=<n> seconds=<s> rate=<Hz> rtt_ms_mean=.. p50=.. max=.."

The type is example_interfaces/srv/AddTwoInts when that package is installed (a full ROS install),
otherwise test_msgs/srv/BasicTypes (the PyPI wheels): a in int64_value, b in int32_value, the sum in
the response's int64_value. --type forces one. Used by launch/service.launch.py and
test/test_demos.py.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


class AddTwoInts:
    """example_interfaces/srv/AddTwoInts (fields a, b -> sum)."""

    name = 'example_interfaces/srv/AddTwoInts'

    def __init__(self):
        from example_interfaces.srv import AddTwoInts as srv
        self.srv = srv

    def request(self, a, b):
        r = self.srv.Request()
        r.a, r.b = a, b
        return r

    def args(self, req):
        return req.a, req.b

    def respond(self, resp, total):
        resp.sum = total
        return resp

    def result(self, resp):
        return resp.sum


class BasicTypesAdd:
    """test_msgs/srv/BasicTypes used as an adder (a: int64_value, b: int32_value)."""

    name = 'test_msgs/srv/BasicTypes'

    def __init__(self):
        from test_msgs.srv import BasicTypes as srv
        self.srv = srv

    def request(self, a, b):
        r = self.srv.Request()
        r.int64_value, r.int32_value = a, b
        return r

    def args(self, req):
        return req.int64_value, req.int32_value

    def respond(self, resp, total):
        resp.int64_value = total
        return resp

    def result(self, resp):
        return resp.int64_value


def pick_type(choice):
    kinds = {'add_two_ints': AddTwoInts, 'basic_types': BasicTypesAdd}
    if choice != 'auto':
        return kinds[choice]()
    try:
        return AddTwoInts()
    except ImportError:
        return BasicTypesAdd()


def run_server(args, node, kind):
    import rclpy
    served = [0]

    def handle(req, resp):
        a, b = kind.args(req)
        served[0] += 1
        if args.verbose:
            print(f'Incoming request: a={a} b={b}', flush=True)
        return kind.respond(resp, a + b)

    node.create_service(kind.srv, args.service, handle)
    print(f'server: ready ({kind.name} on {args.service})', flush=True)
    try:
        rclpy.spin(node)
    finally:
        print(f'server: answered {served[0]} requests', flush=True)
    return 0


def run_client(args, node, kind):
    import rclpy
    cli = node.create_client(kind.srv, args.service)
    if not cli.wait_for_service(timeout_sec=args.wait):
        print(f'client: {args.service} not available within {args.wait} s', flush=True)
        return 2
    print(f'client: service available ({kind.name} on {args.service})', flush=True)
    period = 1.0 / args.rate if args.rate > 0 else 0.0
    rtts, ok, n = [], 0, 0
    start = time.monotonic()
    while args.count == 0 or n < args.count:
        n += 1
        a, b = n, 2 * n + 1
        t0 = time.monotonic()
        future = cli.call_async(kind.request(a, b))
        rclpy.spin_until_future_complete(node, future, timeout_sec=args.timeout)
        if not future.done():
            print(f'client: call {n} timed out after {args.timeout} s', flush=True)
            continue
        rtts.append(time.monotonic() - t0)
        total = kind.result(future.result())
        good = total == a + b
        ok += good
        print(f'Result of add_two_ints: {a} + {b} = {total}{"" if good else " WRONG"}', flush=True)
        if period:
            rest = t0 + period - time.monotonic()
            if rest > 0:
                time.sleep(rest)
    took = time.monotonic() - start
    s = sorted(rtts) or [float('nan')]
    print(f'client: TOTAL calls={n} ok={ok} seconds={took:.2f} rate={n / took:.1f} '
          f'rtt_ms_mean={1000 * sum(s) / len(s):.2f} p50={1000 * s[len(s) // 2]:.2f} '
          f'max={1000 * s[-1]:.2f}', flush=True)
    return 0 if ok == n else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('role', choices=('server', 'client'))
    ap.add_argument('--service', default='add_two_ints')
    ap.add_argument('--type', default='auto', choices=('auto', 'add_two_ints', 'basic_types'))
    ap.add_argument('--count', type=int, default=0, help='client: calls to make, 0 = until stopped')
    ap.add_argument('--rate', type=float, default=10.0, help='client: calls per second at most '
                                                              '(0: back to back)')
    ap.add_argument('--wait', type=float, default=30.0, help='client: wait for the server')
    ap.add_argument('--timeout', type=float, default=5.0, help='client: per-call timeout')
    ap.add_argument('--verbose', action='store_true', help='server: print every request')
    ap.add_argument('--watchdog', type=float, default=0.0, help='exit after this many seconds')
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, args.role)

    import rclpy
    from rclpy.executors import ExternalShutdownException

    kind = pick_type(args.type)
    rclpy.init()
    common.announce_rmw(args.role)
    node = rclpy.create_node(f'add_two_ints_{args.role}')
    try:
        return (run_server if args.role == 'server' else run_client)(args, node, kind)
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    finally:
        common.shutdown(node)


if __name__ == '__main__':
    sys.exit(main())
