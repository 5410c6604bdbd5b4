"""Writes the seed corpus of the cdr_decode target (and the fixtures the peer_samples target
mutates): every type of types.txt serialized by rmw_fastrtps_cpp (rclpy.serialization, an
encoder independent of ours), one file per fixture of test_msgs' own message_fixtures and
service_fixtures (the messages ROS 2's rmw conformance tests use), plus a default-constructed
instance of every type; fixtures over MAX_SEED bytes are left out.

File: seeds/cdr_decode/<index>_<Type>_<n>.bin = one selector byte (the type's position in
types.txt) + the CDR bytes with their encapsulation header.

Run (Fast DDS must be the RMW, so no LD_PRELOAD of ours):
  (on Kilted) . target/rmw_shm_rs.env && unset LD_PRELOAD RMW_IMPLEMENTATION && $RMW_SHM_RS_PYTHON fuzz/gen_seeds.py
"""
import importlib
import os
import re
import sys

from rclpy.serialization import serialize_message

HERE = os.path.dirname(os.path.abspath(__file__))
# Larger fixtures (test_msgs has 100 KB strings) only slow the fuzzer down: it runs with
# -max_len 8192 (scripts/fuzz.sh).
MAX_SEED = 8192


def type_names():
    with open(os.path.join(HERE, 'types.txt')) as f:
        lines = [line.strip() for line in f]
    return [line for line in lines if line and not line.startswith('#')]


def load(name):
    pkg, sub, ty = name.split('/')
    module = importlib.import_module(f'{pkg}.{sub}')
    if hasattr(module, ty):
        return getattr(module, ty)
    # Action types live in the action's own module (test_msgs.action._fibonacci).
    base = ty.split('_')[0]
    snake = re.sub(r'(?<!^)(?=[A-Z])', '_', base).lower()
    return getattr(importlib.import_module(f'{pkg}.{sub}._{snake}'), ty)


def fixtures(name, cls):
    """Instances of `cls`: test_msgs' fixtures when it has some, and the default one."""
    out = [cls()]
    pkg, sub, ty = name.split('/')
    if pkg != 'test_msgs':
        return out
    if sub == 'msg':
        from test_msgs.message_fixtures import get_test_msg
        try:
            out += get_test_msg(ty)
        except NotImplementedError:
            pass
    elif sub == 'srv':
        from test_msgs.service_fixtures import get_test_srv
        base, part = ty.rsplit('_', 1)
        pairs = get_test_srv(base)
        if part == 'Request':
            out += [req for req, _ in pairs]
        elif part == 'Response':
            out += [resp for _, resp in pairs]
        elif part == 'Event':
            for req, resp in pairs:
                out.append(cls(request=[req], response=[resp]))
    return out


def main():
    folder = os.path.join(HERE, 'seeds', 'cdr_decode')
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        os.remove(os.path.join(folder, old))
    count = 0
    for index, name in enumerate(type_names()):
        cls = load(name)
        for n, msg in enumerate(fixtures(name, cls)):
            data = bytes([index]) + serialize_message(msg)
            if len(data) > MAX_SEED:
                continue
            path = os.path.join(folder, f'{index:02d}_{name.split("/")[-1]}_{n}.bin')
            with open(path, 'wb') as f:
                f.write(data)
            count += 1
    print(f'{count} seeds in {folder}', file=sys.stderr)


if __name__ == '__main__':
    main()
