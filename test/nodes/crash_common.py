"""Helpers of the crash-loop nodes (crash_topic.py, crash_service.py; test/test_crash.py).

Every time these nodes print is time.monotonic(): CLOCK_MONOTONIC, one clock for every process of
the host, so the test compares it with the moment it sent SIGKILL.
"""

import signal
import time


def now():
    return time.monotonic()


def emit(*parts):
    print(' '.join(str(p) for p in parts), flush=True)


def add_common_args(ap):
    ap.add_argument('--node', required=True, help='node name')
    ap.add_argument('--tag', default='', help='put into every message / response (default: --node)')
    ap.add_argument('--watch', default='', help="print 'UP <name> <t>' / 'GONE <name> <t>' for "
                                                'nodes whose name starts with this')
    ap.add_argument('--arm', action='store_true',
                    help="init, create the node, print 'armed', create the endpoint on SIGUSR1")
    ap.add_argument('--watchdog', type=float, default=120)


class GraphWatch:
    """Polls the node names (every 10 ms at most) and prints who joined and who left."""

    def __init__(self, node, prefix):
        self.node, self.prefix, self.seen, self.next = node, prefix, set(), 0.0

    def poll(self):
        if not self.prefix or now() < self.next:
            return
        self.next = now() + 0.01
        names = {n for n in self.node.get_node_names() if n.startswith(self.prefix)}
        t = f'{now():.4f}'
        for n in sorted(names - self.seen):
            emit('UP', n, t)
        for n in sorted(self.seen - names):
            emit('GONE', n, t)
        self.seen = names


class Armed:
    """Lets the test start a process early (rclpy start-up takes about a second) and release it
    with SIGUSR1 when the loop needs it. Install before printing 'armed'."""

    def __init__(self, enabled):
        self.fired = not enabled
        if enabled:
            signal.signal(signal.SIGUSR1, self._fire)

    def _fire(self, *_):
        self.fired = True

    def wait(self, spin, watch):
        if self.fired:
            return
        emit('armed')
        while not self.fired:
            spin(0.01)
            watch.poll()


class Slowest:
    """Times calls: keeps the longest and prints 'STALL <what> <seconds>' above `limit`."""

    def __init__(self, limit):
        self.limit, self.max, self.what = limit, 0.0, '-'

    def time(self, what, fn, *args, **kwargs):
        t0 = now()
        try:
            return fn(*args, **kwargs)
        finally:
            dt = now() - t0
            if dt > self.max:
                self.max, self.what = dt, what
            if dt > self.limit:
                emit('STALL', what, f'{dt:.3f}')


def run_node(args, what, role):
    """The nodes' main body: init rclpy, create the node, wait until armed, run `role(args, node,
    watch, spin)`; SIGINT and a call racing shutdown end it quietly; always shuts down."""
    import common
    import rclpy
    from rclpy.executors import ExternalShutdownException
    rclpy.init()
    common.announce_rmw(what)
    node = rclpy.create_node(args.node)
    watch = GraphWatch(node, args.watch)

    def spin(t):
        rclpy.spin_once(node, timeout_sec=t)

    try:
        Armed(args.arm).wait(spin, watch)
        role(args, node, watch, spin)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception as e:  # noqa: BLE001 - a call racing SIGINT's shutdown is no failure
        # SIGINT inside a C call (a message being converted) comes out wrapped: its
        # KeyboardInterrupt is the cause.
        interrupted = isinstance(e.__cause__ or e.__context__, KeyboardInterrupt)
        if rclpy.ok() and not interrupted:
            raise
    finally:
        common.shutdown(node)
    return 0
