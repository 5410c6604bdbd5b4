#!/usr/bin/env python3
"""Batch (de)serialization through whatever RMW this process runs on (rclpy.serialization).

  generate    --out F.pkl --seed S --random N           instances (default + N random per type)
  big-image   --out F.pkl --seed S --random N --size B  N sensor_msgs/Image of B bytes random data
  serialize   --instances F.pkl --out R.jsonl [--start I]
  deserialize --instances F.pkl --bytes R.jsonl --out D.jsonl [--start I]

Each result is one JSON line, written and flushed as soon as it is known, so that when the RMW
crashes the caller knows which entry did it and can resume after it with --start.
"""

import argparse
import json
import os
import pickle
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import msgutil  # noqa: E402


def load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def written_length(data, msg, deserialize_message):
    """The shortest prefix of `data` that still decodes to `msg`: the bytes the serializer really
    wrote. (rmw_fastrtps_cpp reports its size *estimate* as the length, which can be larger.)"""
    cls = type(msg)

    def decodes(n):
        try:
            return msgutil.compare(msg, deserialize_message(data[:n], cls)) is None
        except Exception:  # noqa: BLE001 - a too short buffer is an error
            return False

    lo, hi = 4, len(data)
    if not decodes(hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if decodes(mid):
            hi = mid
        else:
            lo = mid
    return hi


def big_images(count, size, seed):
    import array
    import random
    from sensor_msgs.msg import Image
    rng = random.Random(f'{seed}/big-image')
    out = []
    width = 1024
    step = width * 4
    assert size % step == 0, f'size must be a multiple of {step}'
    for i in range(count):
        img = Image()
        img.header.stamp.sec = rng.randint(0, 2**31 - 1)
        img.header.stamp.nanosec = rng.randint(0, 999_999_999)
        img.header.frame_id = f'camera_{i}_optical_frame'
        img.width = width
        img.height = size // step
        img.encoding = 'rgba8'
        img.is_bigendian = 0
        img.step = step
        img.data = array.array('B', rng.randbytes(size))
        out.append({'type': 'sensor_msgs/msg/Image', 'label': f'image{i}', 'msg': img})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['generate', 'big-image', 'serialize', 'deserialize'])
    ap.add_argument('--out', required=True)
    ap.add_argument('--instances')
    ap.add_argument('--bytes')
    ap.add_argument('--seed', default='1')
    ap.add_argument('--random', type=int, default=4)
    ap.add_argument('--size', type=int, default=4 * 1024 * 1024)
    ap.add_argument('--start', type=int, default=0)
    ap.add_argument('--measure-written', action='store_true',
                    help='also find the shortest prefix of the bytes that decodes to the message')
    ap.add_argument('--watchdog', type=float, default=120.0)
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, f'serdes_worker {args.mode}')

    if args.mode == 'generate':
        entries = msgutil.make_instances(msgutil.all_types(), args.random, args.seed)
        with open(args.out, 'wb') as f:
            pickle.dump(entries, f)
        print(f'generated {len(entries)} instances of {len(msgutil.all_types())} types', flush=True)
        return 0

    if args.mode == 'big-image':
        entries = big_images(args.random, args.size, args.seed)
        with open(args.out, 'wb') as f:
            pickle.dump(entries, f)
        print(f'generated {len(entries)} images of {args.size} bytes', flush=True)
        return 0

    from rclpy.serialization import deserialize_message, serialize_message
    common.announce_rmw(f'serdes_worker {args.mode}')
    entries = load(args.instances)
    data = {}
    if args.mode == 'deserialize':
        with open(args.bytes) as f:
            for line in f:
                r = json.loads(line)
                data[r['i']] = r
    with open(args.out, 'a') as out:
        for i, e in enumerate(entries):
            if i < args.start:
                continue
            res = {'i': i, 'type': e['type'], 'label': e['label']}
            try:
                if args.mode == 'serialize':
                    b = serialize_message(e['msg'])
                    res.update(ok=True, hex=bytes(b).hex(), len=len(b))
                    if args.measure_written:
                        res['written'] = written_length(bytes(b), e['msg'], deserialize_message)
                else:
                    src = data.get(i)
                    if src is None or not src.get('ok'):
                        res.update(ok=False, skipped=True, error='no serialized bytes to decode')
                    else:
                        msg = deserialize_message(bytes.fromhex(src['hex']), msgutil.import_type(e['type']))
                        diff = msgutil.compare(e['msg'], msg)
                        res.update(ok=diff is None, error=diff)
            except Exception as ex:  # noqa: BLE001 - reported per entry
                res.update(ok=False, error=f'{type(ex).__name__}: {ex}',
                           trace=traceback.format_exc(limit=3))
            out.write(json.dumps(res) + '\n')
            out.flush()
    print(f'serdes_worker {args.mode}: done', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
