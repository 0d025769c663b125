#!/usr/bin/env python3
# Writes the seed corpus for fuzz_swim_input: byte 0 = mode, then one SWIM blob
# (layout in lib/swim/swim_internal.h). Run from this directory.
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'fuzz_swim_input')
os.makedirs(out, exist_ok=True)

def name(s):
    b = s.encode()
    return bytes([len(b)]) + b

def rec(status, n, gen=1, inc=0, ip=0x0A000002, port=7946, meta=b'', frm=None):
    b = bytes([status]) + name(n) + struct.pack('>QIIHH', gen, inc, ip, port, len(meta)) + meta
    if status == 2:
        b += name(frm or 'n9')
    return b

def blob(t, flags, recs, seq=7, target='self', taddr=(0x0A000001, 7946), sender='n1', gen=1):
    b = bytes([1, t, flags]) + name(sender) + struct.pack('>Q', gen)
    if t in (1, 2):
        b += struct.pack('>I', seq) + name(target)
        if t == 2:
            b += struct.pack('>IH', *taddr)
    elif t in (3, 4):
        b += struct.pack('>I', seq)
    b += struct.pack('>H', len(recs)) + b''.join(recs)
    return b

seeds = {
    'ping': (0, blob(1, 0, [])),
    'ping_rec': (2, blob(1, 0, [rec(1, 'n5', inc=3, meta=b'role=x')])),
    'ping_req': (2, blob(2, 1, [], target='n2', taddr=(0x0A000003, 7946))),
    'ack': (2, blob(3, 0, [rec(2, 'n2', inc=0)])),
    'nack': (2, blob(4, 0, [])),
    'gossip_all': (2, blob(5, 0, [rec(1, 'n6'), rec(2, 'n2', frm='n3'), rec(3, 'n3'),
                                  rec(4, 'n4', inc=2)])),
    'gossip_self': (2, blob(5, 0, [rec(2, 'self', gen=5, frm='n2'), rec(3, 'self', gen=4),
                                   rec(1, 'self', gen=6, ip=0x0A0000FF)])),
    'gossip_restart': (2, blob(5, 0, [rec(1, 'n2', gen=9, ip=0x0A000009)])),
    'push_pull_req': (2, blob(6, 1, [rec(1, 'n1', inc=1), rec(1, 'n7'), rec(3, 'n2')])),
    'push_pull_join': (8, blob(6, 3, [rec(1, 'n8')])),
    'push_pull_reply': (8, blob(6, 0, [rec(1, 'n3'), rec(1, 'self', gen=5)])),
    'leaving_suspect': (6, blob(5, 0, [rec(2, 'self', gen=5, inc=1, frm='n2')])),
    'meta_big': (1, blob(5, 0, [rec(1, 'n10', meta=b'm' * 200)])),
    'long_name': (0, blob(5, 0, [rec(1, 'x' * 64)], sender='y' * 64)),
}
for k, (mode, b) in seeds.items():
    with open(os.path.join(out, k), 'wb') as f:
        f.write(bytes([mode]) + b)
print('wrote', len(seeds), 'seeds to', out)
