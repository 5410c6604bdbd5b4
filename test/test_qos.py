"""QoS policies on rmw_shm_rs."""

import json


def grid(launcher, side):
    p = launcher.start(f'qos_check_{side}', 'qos_check_worker.py', side=side)
    assert launcher.wait(p, 60) == 0, p.report()
    launcher.check_rmw(p, side=side)
    line = next(l for l in p.output().splitlines() if l.startswith('GRID '))
    return json.loads(line[len('GRID '):])


def test_check_compatible_matches_fastrtps(launcher):
    """rmw_qos_profile_check_compatible gives rmw_fastrtps_cpp's verdict and reason for every pair
    of a 400-pair grid (reliability, durability, liveliness, deadline, lease duration, including
    SYSTEM_DEFAULT and BEST_AVAILABLE)."""
    ours, theirs = grid(launcher, 'ours'), grid(launcher, 'fastrtps')
    assert len(ours) == len(theirs) == 400
    diffs = [(o, t) for o, t in zip(ours, theirs) if o != t]
    assert not diffs, f'{len(diffs)} pairs differ, first: ours {diffs[0][0]} vs fastrtps {diffs[0][1]}'
    verdicts = {row[4] for row in theirs}
    assert verdicts == {0, 1, 2}, 'the grid must cover OK, WARNING and ERROR'


def got(proc):
    return [l[4:] for l in proc.output().splitlines() if l.startswith('GOT ')]


def test_transient_local_late_joiner_gets_last_depth_messages(launcher):
    pub = launcher.start('tl_pub', 'qos_worker.py', 'tl_pub', '--topic', '/tl', '--depth', 5,
                         '--count', 10, '--watchdog', 60)
    assert launcher.wait_for_line(pub, 'tl_pub: published', 30), pub.report()
    launcher.check_rmw(pub)
    late = launcher.start('tl_sub', 'qos_worker.py', 'sub', '--topic', '/tl', '--depth', 5,
                          '--durability', 'transient_local', '--duration', 3)
    volatile = launcher.start('vol_sub', 'qos_worker.py', 'sub', '--topic', '/tl', '--depth', 5,
                              '--durability', 'volatile', '--duration', 3)
    assert launcher.wait(late, 30) == 0, late.report()
    assert launcher.wait(volatile, 30) == 0, volatile.report()
    history = [m for m in got(late) if m.startswith('m')]
    assert history == ['m5', 'm6', 'm7', 'm8', 'm9'], late.report()
    assert got(late).index('m9') < next(i for i, m in enumerate(got(late)) if m.startswith('live'))
    assert any(m.startswith('live') for m in got(late)), late.report()
    # A volatile subscription is compatible with the transient-local publisher: it gets live
    # messages, and none of the history.
    assert not [m for m in got(volatile) if m.startswith('m')], volatile.report()
    assert any(m.startswith('live') for m in got(volatile)), volatile.report()


def test_incompatible_qos_never_delivers(launcher):
    """A best-effort publisher and a reliable subscription do not match: nothing is delivered,
    while a best-effort subscription on the same topic gets the messages."""
    pub = launcher.start('be_pub', 'qos_worker.py', 'be_pub', '--topic', '/incompat', '--watchdog', 60)
    reliable = launcher.start('rel_sub', 'qos_worker.py', 'sub', '--topic', '/incompat',
                              '--reliability', 'reliable', '--duration', 2.5)
    best_effort = launcher.start('be_sub', 'qos_worker.py', 'sub', '--topic', '/incompat',
                                 '--reliability', 'best_effort', '--duration', 2.5)
    assert launcher.wait(reliable, 30) == 0, reliable.report()
    assert launcher.wait(best_effort, 30) == 0, best_effort.report()
    launcher.check_rmw(pub)
    assert got(reliable) == [], reliable.report()
    assert len(got(best_effort)) > 5, best_effort.report()


def test_reliable_keep_all_loses_nothing_to_a_slow_subscription(launcher):
    """A RELIABLE KEEP_ALL subscription that takes 2 ms per message gets all of a 500-message
    burst in order: the publisher waits for room instead of dropping (KEEP_LAST would drop)."""
    sub = launcher.start('keep_all_sub', 'qos_worker.py', 'keep_all_sub', '--topic', '/keep_all',
                         '--count', 500, '--duration', 60, '--watchdog', 90)
    pub = launcher.start('burst_pub', 'qos_worker.py', 'burst_pub', '--topic', '/keep_all',
                         '--depth', 10, '--count', 500, '--duration', 1, '--watchdog', 90)
    assert launcher.wait(sub, 80) == 0, launcher.reports()
    assert launcher.wait(pub, 30) == 0, pub.report()
    launcher.check_rmw(sub)
    assert 'burst_pub: done 0' in pub.output(), pub.report()
    assert got(sub) == [f'k{i}' for i in range(500)], sub.report()
