"""Watches the RTPS discovery traffic on a network namespace's links (run it there with
`ip netns exec`, as root: an AF_PACKET socket sees every frame without taking it from anyone).

For each SEDP endpoint announcement (DATA from the built-in publications writer 0x000003c2 or
subscriptions writer 0x000004c2, RTPS 2.5 9.6.2 / 8.5.4) it prints one JSON line
    SEDP {"src": <IPv4 source>, "kind": "pub"|"sub", "topic": ..., "type_information": bool}
where type_information says whether the parameter list holds PID_TYPE_INFORMATION (0x0075,
DDS-XTypes 1.3 7.6.3.2.2). It prints "sniffing" once the socket is open and stops after
--seconds, or once --done-file exists and the frames queued until then are read.
"""

import argparse
import json
import os
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
DATA = 0x15
SEDP_WRITERS = {b'\x00\x00\x03\xc2': 'pub', b'\x00\x00\x04\xc2': 'sub'}
PID_SENTINEL, PID_TOPIC_NAME, PID_TYPE_INFORMATION = 0x0001, 0x0005, 0x0075


def params(buf, little):
    """The (pid, value) pairs of an RTPS parameter list and the offset just past it (after
    PID_SENTINEL, or the end of `buf`)."""
    end = '<' if little else '>'
    pos, found = 0, []
    while pos + 4 <= len(buf):
        pid, length = struct.unpack_from(end + 'HH', buf, pos)
        pos += 4
        if pid == PID_SENTINEL:
            break
        found.append((pid & 0x3fff, buf[pos:pos + length]))
        pos += length
    return found, pos


def announcements(rtps):
    """(kind, topic, has type information) of each SEDP DATA in one RTPS message."""
    pos = 20  # 'RTPS', version, vendor id, GUID prefix
    while pos + 4 <= len(rtps):
        sid, flags = rtps[pos], rtps[pos + 1]
        little = bool(flags & 1)
        (size,) = struct.unpack_from('<H' if little else '>H', rtps, pos + 2)
        body = rtps[pos + 4:] if size == 0 else rtps[pos + 4:pos + 4 + size]
        pos += 4 + (size if size else len(body))
        if sid != DATA or len(body) < 20:
            continue
        kind = SEDP_WRITERS.get(bytes(body[8:12]))
        if kind is None or not flags & 0x04:  # not SEDP, or no serialized payload
            continue
        (to_qos,) = struct.unpack_from('<H' if little else '>H', body, 2)
        at = 4 + to_qos
        if flags & 0x02:  # inline QoS precedes the payload: skip it
            at += params(body[at:], little)[1]
        payload = body[at:]
        if len(payload) < 4 or payload[1] not in (2, 3):  # PL_CDR_BE / PL_CDR_LE
            continue
        plist = dict(params(payload[4:], payload[1] == 3)[0])
        topic = _cdr_string(plist.get(PID_TOPIC_NAME), payload[1] == 3)
        yield kind, topic, PID_TYPE_INFORMATION in plist


def _cdr_string(value, little):
    if not value or len(value) < 4:
        return None
    (n,) = struct.unpack_from('<I' if little else '>I', value, 0)
    return bytes(value[4:4 + n]).rstrip(b'\0').decode(errors='replace')


class Datagrams:
    """UDP datagrams from Ethernet frames, IPv4 fragments put back together (Fast DDS sends
    datagrams of up to 64 KB, which IP fragments at the link's MTU)."""

    def __init__(self):
        self.partial = {}  # (src, dst, id) -> {offset: bytes}, and the total length once known

    def add(self, frame):
        """(IPv4 source, UDP payload) once `frame` completes a datagram, else None."""
        if len(frame) < 14 + 20 or frame[12:14] != b'\x08\x00':
            return None
        ip = frame[14:]
        ihl = (ip[0] & 0x0f) * 4
        (total,) = struct.unpack_from('>H', ip, 2)
        (frag,) = struct.unpack_from('>H', ip, 6)
        if ip[9] != 17:  # UDP
            return None
        src = socket.inet_ntoa(ip[12:16])
        data = bytes(ip[ihl:total])
        more, offset = frag & 0x2000, (frag & 0x1fff) * 8
        if not more and offset == 0:
            return src, data[8:]
        key = (ip[12:20], ip[4:6])
        parts = self.partial.setdefault(key, {})
        parts[offset] = data
        if not more:
            parts['end'] = offset + len(data)
        end = parts.get('end')
        if end is None:
            return None
        pieces = sorted((o, d) for o, d in parts.items() if o != 'end')
        at = 0
        for o, d in pieces:
            if o != at:
                return None  # a piece is still missing
            at += len(d)
        if at != end:
            return None
        del self.partial[key]
        return src, b''.join(d for _, d in pieces)[8:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=float, default=30.0)
    ap.add_argument('--done-file')
    args = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.settimeout(0.2)
    print('sniffing', flush=True)
    deadline = time.monotonic() + args.seconds
    seen = set()
    datagrams = Datagrams()
    stopping = False
    while time.monotonic() < deadline:
        if not stopping and args.done_file and os.path.exists(args.done_file):
            stopping = True  # read what is queued, then stop
        try:
            frame = s.recv(65535)
        except socket.timeout:
            if stopping:
                break
            continue
        got = datagrams.add(frame)
        if not got or not got[1].startswith(b'RTPS'):
            continue
        src, rtps = got
        for kind, topic, has_ti in announcements(rtps):
            key = (src, kind, topic, has_ti)
            if key not in seen:
                seen.add(key)
                print('SEDP ' + json.dumps({'src': src, 'kind': kind, 'topic': topic,
                                            'type_information': has_ti}), flush=True)
    print('done', flush=True)


if __name__ == '__main__':
    sys.exit(main())
