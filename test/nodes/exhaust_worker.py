"""Exhaustion of /dev/shm (issue 7 item 5), run inside a private mount namespace whose /dev/shm is
a small tmpfs (test/test_exhaustion.py starts it so).

  exhaust_worker.py --big-mib 16 --fill-mib N

Steps, each printing one line the test checks:
  1. a String publisher/subscription pair on /small (through shared memory: the test sets
     RMW_SHM_RS_PATHS=shm) exchanges a message              -> 'small ok 0'
  2. an Image publisher on /big publishes a --big-mib MiB image, more than /dev/shm holds: the
     publish raises                                          -> 'big publish failed: <message>'
  3. /small still works                                      -> 'small ok 1'
  4. /dev/shm filled up (a file of what is left), then a publisher on a new topic is created
     or its first publish fails                              -> 'new topic failed: <message>'
                                                                (or 'new topic ok' when it fits)
  5. the file removed, /small still works                    -> 'small ok 2'
  'exhaust: done' at the end; exit code 0 unless a step crashed the process.
"""

import argparse
import os
import time

from common import announce_rmw, install_watchdog

SHM = '/dev/shm'


def free_bytes():
    st = os.statvfs(SHM)
    return st.f_bavail * st.f_frsize


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--big-mib', type=int, default=16)
    ap.add_argument('--watchdog', type=float, default=60)
    a = ap.parse_args()
    install_watchdog(a.watchdog, 'exhaust')
    import rclpy
    from rclpy.qos import QoSProfile
    from sensor_msgs.msg import Image
    from std_msgs.msg import String
    rclpy.init()
    announce_rmw('exhaust')
    node = rclpy.create_node('exhaust')
    print(f'/dev/shm free at start: {free_bytes()} bytes', flush=True)
    got = []
    small_pub = node.create_publisher(String, '/small', QoSProfile(depth=10))
    node.create_subscription(String, '/small', lambda m: got.append(m.data), QoSProfile(depth=10))

    def small_ok(i):
        want = f'small {i}'
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and want not in got:
            try:
                small_pub.publish(String(data=want))
            except Exception as e:  # noqa: BLE001 - reported; the test expects none
                print(f'small publish failed: {e}', flush=True)
            rclpy.spin_once(node, timeout_sec=0.05)
        print(f'small {"ok" if want in got else "LOST"} {i}', flush=True)

    small_ok(0)
    big_pub = node.create_publisher(Image, '/big', QoSProfile(depth=1))
    node.create_subscription(Image, '/big', lambda m: None, QoSProfile(depth=1))
    for _ in range(100):
        rclpy.spin_once(node, timeout_sec=0.02)
        if big_pub.get_subscription_count() >= 1:
            break
    img = Image(height=a.big_mib, width=1024 * 1024, encoding='mono8', step=1024 * 1024)
    img.data = bytes(a.big_mib << 20)
    try:
        big_pub.publish(img)
        print('big publish ok', flush=True)
    except Exception as e:  # noqa: BLE001 - the expected outcome
        print(f'big publish failed: {e}'.replace('\n', ' | '), flush=True)
    small_ok(1)

    filler = os.path.join(SHM, f'exhaust_filler_{os.getpid()}')
    try:
        with open(filler, 'wb') as f:
            chunk = bytes(1 << 16)
            try:
                while True:
                    f.write(chunk)
                    f.flush()
            except OSError:
                pass
        print(f'/dev/shm free after filling: {free_bytes()} bytes', flush=True)
        try:
            p = node.create_publisher(String, '/new_topic', QoSProfile(depth=10))
            node.create_subscription(String, '/new_topic', lambda m: None, QoSProfile(depth=10))
            for _ in range(20):
                rclpy.spin_once(node, timeout_sec=0.02)
            p.publish(String(data='x' * 4096))
            print('new topic ok', flush=True)
        except Exception as e:  # noqa: BLE001 - the expected outcome
            print(f'new topic failed: {e}'.replace('\n', ' | '), flush=True)
    finally:
        os.unlink(filler)
    small_ok(2)
    print('exhaust: done', flush=True)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == '__main__':
    main()
