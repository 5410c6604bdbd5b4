"""Acceptance: CDR compatibility with rmw_fastrtps_cpp, for every test_msgs type, std_msgs/String,
sensor_msgs/Image and PointCloud2 (a default-valued and several random instances of each):

  fastrtps serializes -> ours deserializes -> equal message
  ours serializes     -> fastrtps deserializes -> equal message
  the serialized lengths are equal: ours == the bytes rmw_fastrtps_cpp really writes (the
  shortest prefix of its output that it decodes back to the message). rmw_fastrtps_cpp reports its
  size *estimate* as the serialized length, which can be larger (trailing bytes it never writes);
  test_reported_length_matches_fastrtps compares with that raw figure too.

Done batch-wise: a few processes for all instances (see test/nodes/serdes_worker.py), then one
test per type reads the results.
"""

import pytest

from helpers import ALL_TYPES, RANDOM_PER_TYPE, run_resumable


@pytest.fixture(scope='module')
def serdes_results(ros, instances, tmp_path_factory):
    from conftest import Launcher, next_domain_id
    work = tmp_path_factory.mktemp('serdes')
    lau = Launcher(ros, work, next_domain_id())
    path, entries = instances
    n = len(entries)
    try:
        fr_ser = run_resumable(lau, 'serialize_fastrtps', 'fastrtps', n, work / 'fr_ser.jsonl',
                               ['serialize', '--instances', path, '--measure-written'])
        ours_ser = run_resumable(lau, 'serialize_ours', 'ours', n, work / 'ours_ser.jsonl',
                                 ['serialize', '--instances', path])
        ours_de = run_resumable(lau, 'deserialize_ours', 'ours', n, work / 'ours_de.jsonl',
                                ['deserialize', '--instances', path, '--bytes', work / 'fr_ser.jsonl'])
        fr_de = run_resumable(lau, 'deserialize_fastrtps', 'fastrtps', n, work / 'fr_de.jsonl',
                              ['deserialize', '--instances', path, '--bytes', work / 'ours_ser.jsonl'])
    finally:
        lau.stop_all()
    return entries, fr_ser, ours_ser, ours_de, fr_de


@pytest.mark.parametrize('msg_type', ALL_TYPES)
def test_cdr_matches_fastrtps(serdes_results, msg_type):
    entries, fr_ser, ours_ser, ours_de, fr_de = serdes_results
    idx = [i for i, e in enumerate(entries) if e['type'] == msg_type]
    assert len(idx) == 1 + RANDOM_PER_TYPE
    problems = []
    for i in idx:
        label = entries[i]['label']
        a, b = fr_ser[i], ours_ser[i]
        if not a.get('ok'):
            problems.append(f'{label}: rmw_fastrtps_cpp failed to serialize (test bug?): {a.get("error")}')
            continue
        if not b.get('ok'):
            problems.append(f'{label}: ours failed to serialize: {b.get("error")}')
        elif a.get('written') is None:
            problems.append(f'{label}: could not measure what rmw_fastrtps_cpp wrote (test bug?)')
        elif a['written'] != b['len']:
            ha, hb = bytes.fromhex(a['hex']), bytes.fromhex(b['hex'])
            at = next((k for k, (x, y) in enumerate(zip(ha, hb)) if x != y), min(len(ha), len(hb)))
            problems.append(f'{label}: serialized length ours {b["len"]} != fastrtps {a["written"]} '
                            f'(it reports {a["len"]}); first differing byte at {at} (may be padding): '
                            f'ours ...{hb[max(0, at - 8):at + 16].hex()} '
                            f'fastrtps ...{ha[max(0, at - 8):at + 16].hex()}')
        if not ours_de[i].get('ok'):
            problems.append(f'{label}: ours decoding fastrtps bytes: {ours_de[i].get("error")}')
        if b.get('ok') and not fr_de[i].get('ok'):
            problems.append(f'{label}: fastrtps decoding our bytes: {fr_de[i].get("error")}')
    assert not problems, f'{msg_type}:\n' + '\n'.join(problems)



def test_fastrtps_reported_length_is_an_upper_bound_of_ours(serdes_results):
    """rmw_fastrtps_cpp's rmw_serialize reports its size *estimate* as buffer_length (8 for the 5 bytes
    of test_msgs/Empty); what it writes decodes from a prefix of our exact length (checked above). The
    estimate is therefore never smaller than our length."""
    entries, fr_ser, ours_ser, _, _ = serdes_results
    smaller = [f"{entries[i]['type']} {entries[i]['label']}: ours {ours_ser[i]['len']}, "
               f"fastrtps {fr_ser[i]['len']}"
               for i in range(len(entries))
               if fr_ser[i].get('ok') and ours_ser[i].get('ok') and fr_ser[i]['len'] < ours_ser[i]['len']]
    assert not smaller, f'{len(smaller)} instances are longer than rmw_fastrtps_cpp reports:\n' + '\n'.join(smaller[:30])
