#!/usr/bin/python3
"""A tiny authoritative DNS server for the probe unit tests (dnspython), UDP and TCP on 127.0.0.1.
--zone FILE: JSON {"name.": {"TYPE": ["rdata", ...]}}. Prints "PORT <n>"; exits after --lifetime."""
import argparse
import json
import socket
import struct
import sys
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


def answer(zone, wire):
    q = dns.message.from_wire(wire)
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    question = q.question[0]
    name = question.name.to_text().lower()
    rtype = dns.rdatatype.to_text(question.rdtype)
    if name not in zone:
        r.set_rcode(dns.rcode.NXDOMAIN)
    elif rtype in zone[name]:
        r.answer.append(dns.rrset.from_text_list(name, 300, "IN", rtype, zone[name][rtype]))
    return r


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--zone", required=True)
    p.add_argument("--lifetime", type=float, default=60)
    args = p.parse_args()
    zone = {k.lower(): v for k, v in json.load(open(args.zone)).items()}

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", port))
    tcp.listen(8)

    def serve_udp():
        while True:
            wire, peer = udp.recvfrom(4096)
            udp.sendto(answer(zone, wire).to_wire(max_size=4096), peer)

    def serve_tcp():
        while True:
            conn, _ = tcp.accept()
            with conn:
                size = struct.unpack("!H", conn.recv(2))[0]
                wire = b""
                while len(wire) < size:
                    wire += conn.recv(size - len(wire))
                out = answer(zone, wire).to_wire()
                conn.sendall(struct.pack("!H", len(out)) + out)

    for fn in (serve_udp, serve_tcp):
        threading.Thread(target=fn, daemon=True).start()
    print("PORT", port, flush=True)
    time.sleep(args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
