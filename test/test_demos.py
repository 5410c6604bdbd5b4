"""The demos of launch/ (issue 6): each runs for a few seconds on rmw_shm_rs and the messages must
flow at the expected rate. PyPI has no `launch`, so the tests start the demo nodes directly (the
same scripts the launch files start, with the same arguments) and, when `launch` is importable (a
full ROS install), also load each launch file.

  image pipeline  camera (1920x1080 rgb8 Image, 30 Hz) -> processor (halves it) -> consumer
  service         add_two_ints server and client (50 calls at 20 Hz)
  mixed r2r       r2r talker/listener (examples/r2r_demo, scripts/build_r2r.sh) with rclpy nodes on
                  /chatter; built once per session by the r2r_bin fixture (conftest.py)
  talker/listener covered by test_talker_listener.py
"""

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAUNCH = REPO / 'launch'

# Image pipeline: the camera's timer rate, and what the consumer must see. The Python side is the
# bottleneck, not the transport: the processor takes 6.2 MB into a Python message, halves it and
# publishes 1.5 MB, 10-20 ms of CPU per frame on this 2-core machine (docs/demos.md has figures).
# With the two cores to itself the pipeline keeps up with the camera; when other work saturates
# the machine (load average above the core count when the test starts) the processor gets less CPU
# and the bound drops to 15 Hz. RMW_SHM_RS_DEMO_MIN_HZ overrides both.
CAMERA_HZ = 30.0
CONSUMER_MIN_HZ = 25.0
CONSUMER_MIN_HZ_LOADED = 15.0
# KEEP_LAST 2: when the processor falls behind, a frame waits behind at most one other (~70 ms).
LATENCY_P50_MAX_MS = 150.0


def consumer_min_hz():
    if os.environ.get('RMW_SHM_RS_DEMO_MIN_HZ'):
        return float(os.environ['RMW_SHM_RS_DEMO_MIN_HZ']), 'RMW_SHM_RS_DEMO_MIN_HZ'
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > cores:
        return CONSUMER_MIN_HZ_LOADED, f'machine loaded: load average {load:.1f} on {cores} cores'
    return CONSUMER_MIN_HZ, f'load average {load:.1f} on {cores} cores'


def fields(line):
    """'consumer: TOTAL frames=3 rate=2.5' -> {'frames': '3', 'rate': '2.5'}"""
    return dict(re.findall(r'(\w+)=(\S+)', line))


def last_line(proc, prefix):
    lines = [ln for ln in proc.output().splitlines() if ln.startswith(prefix)]
    return lines[-1] if lines else None


def _started(launcher, proc, text, timeout=60):
    assert launcher.wait_for_line(proc, text, timeout), \
        f'{proc.name} did not start:\n{proc.report()}'
    launcher.check_rmw(proc)


def test_image_pipeline_rate_and_latency(launcher):
    min_hz, why = consumer_min_hz()
    depth = 2  # as in launch/image_pipeline.launch.py
    consumer = launcher.start('consumer', 'demo_consumer.py', '--topic', 'camera/image_half',
                              '--depth', depth, '--duration', 5, '--watchdog', 60)
    processor = launcher.start('processor', 'demo_processor.py', '--input', 'camera/image_raw',
                               '--output', 'camera/image_half', '--depth', depth,
                               '--watchdog', 60)
    _started(launcher, consumer, 'consumer: ready')
    _started(launcher, processor, 'processor: ready')
    camera = launcher.start('camera', 'demo_camera.py', '--topic', 'camera/image_raw',
                            '--depth', depth, '--rate', CAMERA_HZ, '--duration', 7,
                            '--wait-match', 30, '--watchdog', 60)
    rc_consumer = launcher.wait(consumer, 40)
    rc_camera = launcher.wait(camera, 20)
    launcher.check_rmw(camera)
    launcher.stop(processor)
    print(f'\nconsumer must reach {min_hz} Hz ({why})')
    print('\n'.join(filter(None, (last_line(camera, 'camera: TOTAL'),
                                         last_line(processor, 'processor: STATS'),
                                         last_line(consumer, 'consumer: TOTAL')))))
    assert rc_consumer == 0 and rc_camera == 0, launcher.reports()
    cam = fields(last_line(camera, 'camera: TOTAL') or '')
    con = fields(last_line(consumer, 'consumer: TOTAL') or '')
    assert 'rate' in cam and 'rate' in con, launcher.reports()
    assert CAMERA_HZ * 0.9 <= float(cam['rate']) <= CAMERA_HZ * 1.05, \
        f'camera published at {cam["rate"]} Hz, not {CAMERA_HZ}:\n{camera.report()}'
    assert con['size'] == '960x540', consumer.report()
    rate = float(con['rate'])
    # A frame the camera did not publish (its Python loop is starved too when the machine is
    # busy) cannot arrive: the bound scales with the rate the camera reached.
    need = round(min_hz * min(1.0, float(cam['rate']) / CAMERA_HZ), 2)
    assert need <= rate <= CAMERA_HZ * 1.05, (
        f'consumer got {rate} Hz of 960x540 images (camera {cam["rate"]} Hz, expected at least '
        f'{need}: {min_hz} x camera/{CAMERA_HZ}, {why}):\n{launcher.reports()}')
    assert float(con['p50']) < LATENCY_P50_MAX_MS, \
        f'median latency {con["p50"]} ms:\n{consumer.report()}'


def test_service_demo_calls_answered(launcher):
    count, hz = 50, 20.0
    server = launcher.start('server', 'demo_service.py', 'server', '--watchdog', 60)
    _started(launcher, server, 'server: ready')
    client = launcher.start('client', 'demo_service.py', 'client', '--count', count,
                            '--rate', hz, '--wait', 30, '--watchdog', 60)
    rc = launcher.wait(client, 45)
    launcher.check_rmw(client)
    launcher.stop(server)
    total = last_line(client, 'client: TOTAL')
    print('\n' + str(total) + '\n' + str(last_line(server, 'server: answered')))
    assert rc == 0 and total, launcher.reports()
    got = fields(total)
    assert int(got['calls']) == count and int(got['ok']) == count, client.report()
    results = [ln for ln in client.output().splitlines() if ln.startswith('Result of add_two_ints')]
    assert results[:2] == ['Result of add_two_ints: 1 + 3 = 4', 'Result of add_two_ints: 2 + 5 = 7']
    assert len(results) == count, client.report()
    assert hz * 0.75 <= float(got['rate']) <= hz * 1.05, \
        f'{got["rate"]} calls/s, paced at {hz}:\n{client.report()}'
    assert f'server: answered {count} requests' in server.output(), server.report()


def test_mixed_rclpy_r2r_graph(launcher, r2r_bin):
    talker_bin, listener_bin = r2r_bin / 'r2r_talker', r2r_bin / 'r2r_listener'
    seconds, period = 5, 0.1
    r2r_listener = launcher.start('r2r_listener', 'demo_exec.py', '--duration', seconds + 3,
                                  '--watchdog', 60, '--', listener_bin)
    listener = launcher.start('listener', 'listener.py', '--topic', '/chatter', '--watchdog', 60)
    _started(launcher, listener, 'listener: ready')
    chatter = launcher.start('chatter', 'demo_chatter.py', '--topic', '/chatter',
                             '--period', period, '--duration', seconds, '--watchdog', 60)
    r2r_talker = launcher.start('r2r_talker', 'demo_exec.py', '--duration', seconds,
                                '--watchdog', 60, '--', talker_bin)
    _started(launcher, chatter, 'chatter: ready')
    rc_chatter = launcher.wait(chatter, 30)
    launcher.wait(r2r_talker, 30)
    launcher.wait(r2r_listener, 30)
    launcher.stop(listener)
    total = fields(last_line(chatter, 'chatter: TOTAL') or '')
    heard_all = [ln for ln in listener.output().splitlines() if ln.startswith("I heard: '")]
    from_rclpy = [ln for ln in heard_all if "'rclpy chatter: " in ln]
    r2r_out = r2r_listener.output()
    print(f'\nchatter: {total}; rclpy listener heard {len(heard_all)} ({len(from_rclpy)} from '
          f'rclpy); r2r_listener heard {r2r_out.count("rclpy chatter: ")} rclpy messages')
    assert rc_chatter == 0 and total, launcher.reports()
    # r2r -> rclpy: the rclpy chatter heard the Rust talker.
    assert int(total['heard']) >= 3, \
        f'rclpy heard {total["heard"]} messages from the r2r talker:\n{launcher.reports()}'
    # rclpy -> rclpy at the expected rate (10 Hz for ~5 s), and rclpy -> r2r.
    expected = int(total['published'])
    assert expected >= 0.8 * seconds / period, chatter.report()
    assert len(from_rclpy) >= expected - 2, \
        f'listener heard {len(from_rclpy)} of {expected} rclpy messages:\n{launcher.reports()}'
    assert 'rclpy chatter: ' in r2r_out, \
        f'the r2r listener did not print an rclpy message:\n{r2r_listener.report()}'


@pytest.mark.parametrize('name', ['talker_listener', 'image_pipeline', 'service', 'mixed_r2r'])
def test_launch_file_loads(name):
    try:
        import launch
        from launch.launch_description_sources import \
            get_launch_description_from_python_launch_file
    except ImportError:
        pytest.skip('the `launch` package is not importable (PyPI has none; a full ROS install '
                    'has it): the demo nodes are tested directly above')
    path = LAUNCH / f'{name}.launch.py'
    ld = get_launch_description_from_python_launch_file(str(path))
    assert isinstance(ld, launch.LaunchDescription)
    kinds = [type(e).__name__ for e in ld.entities]
    assert 'SetEnvironmentVariable' in kinds, kinds
    assert kinds.count('ExecuteProcess') >= 2, kinds
