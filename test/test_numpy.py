"""The numpy helper (python/rmw_shm_rs_numpy.py, issue 6 item 5) between two rclpy processes on
rmw_shm_rs: a 4 MiB array published from numpy through the helper arrives equal, as a numpy view of
the received bytes (not owning its data)."""

import pytest

CASES = [('image', 'sensor_msgs/Image rgba8 1024x1024 (4 MiB uint8)'),
         ('f64', 'std_msgs/Float64MultiArray 524288 float64 (4 MiB)')]


@pytest.mark.parametrize('kind', [c[0] for c in CASES], ids=[c[0] for c in CASES])
def test_numpy_roundtrip_4mib(launcher, kind):
    sub = launcher.start('numpy_sub', 'numpy_worker.py', 'sub', '--kind', kind, '--count', 3,
                         '--wait-match', 40, '--watchdog', 60)
    pub = launcher.start('numpy_pub', 'numpy_worker.py', 'pub', '--kind', kind, '--period', 0.1,
                         '--wait-match', 40, '--watchdog', 60)
    rc = launcher.wait(sub, 70)
    assert rc == 0, f'subscriber failed:\n{launcher.reports()}'
    out = sub.output()
    assert 'numpy_sub: OK 3' in out
    assert 'view=True owndata=False equal=True' in out, out
    launcher.check_rmw(sub)
    launcher.check_rmw(pub)
    assert launcher.wait(pub, 20) == 0, f'publisher failed:\n{pub.report()}'


def test_numpy_helper_matches_rclpy_serialization(ros):
    """Pure CDR check in a child (no RMW traffic): helper bytes == rclpy's serialize_message (up to
    padding bytes, which rclpy leaves uninitialised), and the parse of rclpy's bytes equals the input."""
    import subprocess
    from conftest import REPO
    code = r'''
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import rmw_shm_rs_numpy as rnp
from rclpy.serialization import serialize_message, deserialize_message
from sensor_msgs.msg import Image
from std_msgs.msg import Float64MultiArray, Float32MultiArray, MultiArrayDimension
rng = np.random.default_rng(7)
a = rng.integers(0, 256, (37, 41, 3), dtype=np.uint8)
m = Image(); m.header.stamp.sec = 5; m.header.stamp.nanosec = 7; m.header.frame_id = 'cam'
m.height, m.width, m.encoding, m.step = 37, 41, 'rgb8', 123; m.data = a.tobytes()
raw = serialize_message(m)
ours = rnp.image_to_cdr(a, 'rgb8', 'cam', (5, 7))
assert len(ours) == len(raw) and ours[:24] == raw[:24] and ours[-a.nbytes:] == raw[-a.nbytes:]
info, v = rnp.image_array(raw, with_info=True)
assert info.frame_id == 'cam' and info.step == 123 and np.array_equal(v, a) and not v.flags.owndata
d = deserialize_message(rnp.image_to_cdr(a, 'rgb8', 'cam', (5, 7)), Image)
assert d.header.frame_id == 'cam' and bytes(d.data) == a.tobytes()
m.step = 124; m.data = np.zeros(37 * 124, np.uint8).tobytes()
assert rnp.image_array(serialize_message(m)).shape == (37, 41, 3)
for T, dt in ((Float64MultiArray, 'f8'), (Float32MultiArray, 'f4')):
    f = rng.standard_normal((3, 5)).astype(dt)
    fm = T(); fm.layout.dim = [MultiArrayDimension(label='', size=3, stride=15),
                               MultiArrayDimension(label='', size=5, stride=5)]
    fm.data = f.ravel().tolist()
    raw = serialize_message(fm)
    assert np.array_equal(rnp.multiarray_shaped(raw, dt), f)
    d = deserialize_message(rnp.multiarray_to_cdr(f), T)
    assert np.array_equal(np.asarray(d.data, dtype=dt).reshape(3, 5), f)
    assert [(x.size, x.stride) for x in d.layout.dim] == [(3, 15), (5, 5)]
print('SERDES OK')
'''
    out = subprocess.run([ros.python, '-c', code, str(REPO / 'python')], env=ros.env('fastrtps'),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and 'SERDES OK' in out.stdout, out.stdout + out.stderr
