"""Bits every test node uses: a self-watchdog, the RMW identifier line, clean shutdown."""

import os
import sys
import threading
import time


def install_watchdog(seconds, name):
    """Exit the process (code 124) if it is still running after `seconds`: no orphan ever hangs."""
    if not seconds or seconds <= 0:
        return

    def fire():
        sys.stderr.write(f'{name}: WATCHDOG: still running after {seconds} s, exiting\n')
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(124)

    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()


def announce_rmw(name):
    """Print which RMW this process really uses (the tests check it)."""
    import rclpy
    ident = rclpy.get_rmw_implementation_identifier()
    print(f'{name}: RMW {ident}', flush=True)
    return ident


def wait_until(predicate, timeout, step=0.02, spin=None):
    """Poll `predicate` (spinning `spin(step)` or sleeping in between) until true or timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        if spin is not None:
            spin(step)
        else:
            time.sleep(step)


def shutdown(*nodes):
    import rclpy
    for n in nodes:
        try:
            n.destroy_node()
        except Exception as e:  # noqa: BLE001 - best effort at exit
            print(f'destroy_node failed: {e!r}', file=sys.stderr)
    rclpy.try_shutdown()
