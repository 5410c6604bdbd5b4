"""QoS events across processes: message lost, deadline missed, incompatible QoS, matched."""

import json

RELIABILITY = 16  # RMW_QOS_POLICY_RELIABILITY


def events(proc, kind):
    prefix = f'EVENT {kind} '
    return [json.loads(l[len(prefix):]) for l in proc.output().splitlines() if l.startswith(prefix)]


def got(proc):
    return [l[4:] for l in proc.output().splitlines() if l.startswith('GOT ')]


def test_message_lost_counts_what_a_keep_last_1_subscriber_missed(launcher):
    sub = launcher.start('lost_sub', 'event_worker.py', 'lost_sub', '--pause', 1.5, '--duration', 1.5)
    pub = launcher.start('lost_pub', 'event_worker.py', 'lost_pub', '--count', 20, '--gap', 1.0,
                         '--duration', 2.5)
    assert launcher.wait(sub, 40) == 0, launcher.reports()
    launcher.wait(pub, 20)
    launcher.check_rmw(sub)
    assert got(sub) == ['first', 'burst19'], sub.report()
    lost = events(sub, 'message_lost')
    assert lost and lost[-1]['total_count'] == 19, sub.report()
    assert sum(e['total_count_change'] for e in lost) == 19, sub.report()


def test_deadline_missed_fires_when_the_publisher_stops(launcher):
    sub = launcher.start('dl_sub', 'event_worker.py', 'dl_sub', '--deadline', 200, '--duration', 4.0)
    pub = launcher.start('dl_pub', 'event_worker.py', 'dl_pub', '--deadline', 200, '--active', 1.5,
                         '--duration', 2.5)
    assert launcher.wait(sub, 40) == 0, launcher.reports()
    assert launcher.wait(pub, 40) == 0, launcher.reports()
    launcher.check_rmw(sub)
    assert len(got(sub)) > 10, sub.report()
    requested = events(sub, 'requested_deadline')
    offered = events(pub, 'offered_deadline')
    # Silent for at least 2 s after the stop with a 200 ms deadline: several periods missed.
    assert requested and requested[-1]['total_count'] >= 5, sub.report()
    assert offered and offered[-1]['total_count'] >= 5, pub.report()


def test_incompatible_qos_event_on_both_sides_and_nothing_delivered(launcher):
    pub = launcher.start('be_pub', 'event_worker.py', 'be_pub', '--duration', 3.0)
    sub = launcher.start('rel_sub', 'event_worker.py', 'rel_sub', '--duration', 3.0)
    assert launcher.wait(sub, 40) == 0, launcher.reports()
    assert launcher.wait(pub, 40) == 0, launcher.reports()
    launcher.check_rmw(pub)
    offered = events(pub, 'offered_incompatible')
    requested = events(sub, 'requested_incompatible')
    assert offered and offered[-1]['total_count'] == 1, pub.report()
    assert requested and requested[-1]['total_count'] == 1, sub.report()
    assert offered[-1]['last_policy_kind'] == RELIABILITY and requested[-1]['last_policy_kind'] == RELIABILITY
    assert not events(pub, 'pub_matched') or events(pub, 'pub_matched')[-1]['current_count'] == 0
    assert got(sub) == []


def test_matched_events(launcher):
    sub = launcher.start('dl_sub', 'event_worker.py', 'dl_sub', '--deadline', 0, '--duration', 3.0)
    pub = launcher.start('dl_pub', 'event_worker.py', 'dl_pub', '--deadline', 0, '--active', 1.0,
                         '--duration', 0.5)
    assert launcher.wait(pub, 40) == 0, launcher.reports()
    assert launcher.wait(sub, 40) == 0, launcher.reports()
    sub_matched = events(sub, 'sub_matched')
    pub_matched = events(pub, 'pub_matched')
    assert sub_matched and sub_matched[0]['current_count'] == 1, sub.report()
    assert pub_matched and pub_matched[0]['current_count'] == 1, pub.report()
    # The publisher left: the subscription saw its match go away.
    assert sub_matched[-1]['current_count'] == 0 and sub_matched[-1]['total_count'] == 1, sub.report()
