"""Acceptance: every instance of every type (test_msgs, std_msgs/String, sensor_msgs/Image and
PointCloud2; default and random) published in one process arrives equal in another process, both on
rmw_shm_rs; a 4 MiB sensor_msgs/Image arrives intact; two subscriptions in the publisher's own
process both receive every message.

QoS: RELIABLE, KEEP_LAST 100 (more than any batch), VOLATILE; publishing starts only after every
publisher has matched its subscription(s).
"""

import json

import pytest

from helpers import ALL_TYPES, RANDOM_PER_TYPE


def run_pair(launcher, instances_path, work, depth=100, timeout=90):
    """Subscriber process, then publisher process; returns the subscriber's per-type results."""
    out = work / 'received.json'
    sub = launcher.start('sub', 'pubsub_worker.py', 'sub', '--instances', instances_path, '--out', out,
                         '--depth', depth, '--timeout', timeout, '--watchdog', timeout + 90)
    assert launcher.wait_for_line(sub, 'pubsub_worker sub: ready', 60), \
        f'subscriber did not start:\n{launcher.reports()}'
    pub = launcher.start('pub', 'pubsub_worker.py', 'pub', '--instances', instances_path,
                         '--done-file', out, '--depth', depth, '--timeout', timeout + 30,
                         '--watchdog', timeout + 90)
    rc_sub = launcher.wait(sub, timeout + 80)
    rc_pub = launcher.wait(pub, 40)
    launcher.check_rmw(sub)
    launcher.check_rmw(pub)
    assert rc_sub == 0 and out.exists(), f'subscriber failed (exit {rc_sub}):\n{launcher.reports()}'
    assert 'publishers matched' in pub.output(), \
        f'publishers never matched the subscriptions:\n{launcher.reports()}'
    assert rc_pub == 0, f'publisher failed:\n{launcher.reports()}'
    with open(out) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def pubsub_results(ros, instances, tmp_path_factory):
    from conftest import Launcher, next_domain_id
    work = tmp_path_factory.mktemp('pubsub')
    lau = Launcher(ros, work, next_domain_id())
    try:
        return run_pair(lau, instances[0], work), None
    except AssertionError as e:
        return None, str(e)
    finally:
        lau.stop_all()


@pytest.mark.parametrize('msg_type', ALL_TYPES)
def test_pubsub_between_processes(pubsub_results, msg_type):
    results, error = pubsub_results
    assert error is None, error
    r = results[msg_type]
    assert r['expected'] == 1 + RANDOM_PER_TYPE
    assert not r['problems'], f'{msg_type}: received {r["received"]} of {r["expected"]}:\n' + \
        '\n'.join(r['problems'])


def test_4mib_image_between_processes(launcher, tmp_path):
    path = tmp_path / 'images.pkl'
    gen = launcher.start('generate', 'serdes_worker.py', 'big-image', '--out', path, '--random', 3,
                         '--size', 4 * 1024 * 1024, '--watchdog', 60, side='fastrtps')
    assert launcher.wait(gen, 70) == 0, gen.report()
    results = run_pair(launcher, path, tmp_path, depth=10, timeout=120)
    r = results['sensor_msgs/msg/Image']
    assert r['received'] == {'sub': 3} and not r['problems'], r


@pytest.mark.parametrize('paths', ['', 'shm'])
def test_two_subscriptions_in_publisher_process(launcher, tmp_path, paths):
    """Publisher plus one subscription on its node and one on a second node, same process: every
    type arrives intact on the intra-process path (deep copies through the type plan), and with
    RMW_SHM_RS_PATHS=shm on shared memory; the path log says which path each pair took."""
    path = tmp_path / 'intra.pkl'
    gen = launcher.start('generate', 'serdes_worker.py', 'generate', '--out', path, '--random', 3,
                         '--watchdog', 60, side='fastrtps')
    assert launcher.wait(gen, 70) == 0, gen.report()
    out = tmp_path / 'intra.json'
    env = {'RMW_SHM_RS_LOG': 'rmw_shm_rs::path=debug', 'RMW_SHM_RS_PATHS': paths}
    p = launcher.start('intra', 'pubsub_worker.py', 'intra', '--instances', path, '--out', out,
                       '--timeout', 90, '--watchdog', 180, extra_env=env)
    rc = launcher.wait(p, 190)
    launcher.check_rmw(p)
    assert rc == 0 and out.exists(), f'intra process failed:\n{p.report()}'
    if launcher.ros.ids['ours'] == 'rmw_shm_rs':
        chosen = 'IntraProcess' if paths == '' else 'SharedMemory'
        other = 'SharedMemory' if paths == '' else 'IntraProcess'
        log = p.output()
        assert f'path={chosen}' in log and f'path={other}' not in log, p.report()
    with open(out) as f:
        results = json.load(f)
    bad = {t: r for t, r in results.items() if r['problems']}
    assert not bad, '\n'.join(f'{t}: received {r["received"]} of {r["expected"]}: {r["problems"][:3]}'
                              for t, r in bad.items())
