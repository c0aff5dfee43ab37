#!/usr/bin/env python3
"""A deliberately broken Teredo client (RFC 4380 §5.2), test-only.

It exists to show that the client cases catch what is wrong with an
implementation nobody here wrote, and blame nothing that is not: every fault
is one thing a careless client does. Standard library only; run by an
adapter JSON that tests/driver/broken_client_test.cpp writes.

Common behaviour: RSs (cone bit clear, an authentication encapsulation
carrying a nonce) to the server every --retry-ms until an RA is taken, then
a refresh RS every --refresh-ms. A taken RA's prefix and origin indication
give the Teredo address (flags 0), added to a TUN interface nobody reads
(with a route for 2000::/3 into it, so the application's packets vanish
there). Faults:

  silent          takes only valid RAs (nonce echoed, origin present, one
                  prefix) and then sends nothing but refresh RSs: no bubble,
                  no echo reply, no test.
  accept-any-ra   takes the first RA it gets, whatever is wrong with it
                  (without a prefix: the server's own 2001:0:<IPv4>::/64).
  accept-any-ra-late
                  as accept-any-ra, but sends one more RS right after taking
                  the RA and configures the address only 1.5 s later, after
                  the next RA came: a reaction that timing would blame on the
                  wrong RA.
  stateless       takes only valid RAs, keeps no peer list: answers every
                  echo request addressed to it, to the UDP endpoint it came
                  from.
  fixed-nonce     as "silent", but every RS carries the same nonce.
"""

import argparse
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
LINK_LOCAL = bytes.fromhex("fe80000000000000" + "0000ffffffffffff")
ALL_ROUTERS = bytes.fromhex("ff020000000000000000000000000002")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def icmpv6(source, destination, body_without_checksum):
    # body: type, code, 0, 0, rest
    pseudo = source + destination + struct.pack("!I3xB", len(body_without_checksum), 58)
    c = checksum(pseudo + body_without_checksum)
    return body_without_checksum[:2] + struct.pack("!H", c) + body_without_checksum[4:]


def ipv6(source, destination, next_header, payload, hop_limit):
    return struct.pack("!IHBB", 6 << 28, len(payload), next_header, hop_limit) + source + destination + payload


def router_solicitation(nonce):
    body = icmpv6(LINK_LOCAL, ALL_ROUTERS, bytes([133, 0, 0, 0, 0, 0, 0, 0]))
    auth = bytes([0, 1, 0, 0]) + nonce + b"\0"
    return auth + ipv6(LINK_LOCAL, ALL_ROUTERS, 58, body, 255)


def parse(datagram):
    """Returns (nonce or None, (port, ipv4 bytes) or None, ipv6 packet) or None."""
    nonce = origin = None
    at = 0
    if datagram[at:at + 2] == b"\0\1":
        if len(datagram) < at + 4:
            return None
        id_len, au_len = datagram[at + 2], datagram[at + 3]
        at += 4 + id_len + au_len
        nonce = datagram[at:at + 8]
        at += 9
    if datagram[at:at + 2] == b"\0\0":
        port = struct.unpack("!H", datagram[at + 2:at + 4])[0] ^ 0xFFFF
        address = bytes(b ^ 0xFF for b in datagram[at + 4:at + 8])
        origin = (port, address)
        at += 8
    packet = datagram[at:]
    if len(packet) < 40 or packet[0] >> 4 != 6:
        return None
    return nonce, origin, packet


def prefixes(ra_body):
    """The Prefix Information options of an RA's ICMPv6 body."""
    found = []
    at = 16
    while at + 2 <= len(ra_body):
        kind, length = ra_body[at], ra_body[at + 1]
        if length == 0:
            break
        if kind == 3 and at + 32 <= len(ra_body):
            found.append(ra_body[at + 16:at + 24])
        at += 8 * length
    return found


def run(command):
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--interface", required=True)
    parser.add_argument("--fault", required=True,
                        choices=["silent", "accept-any-ra", "accept-any-ra-late", "stateless", "fixed-nonce"])
    parser.add_argument("--retry-ms", type=int, default=400)
    parser.add_argument("--refresh-ms", type=int, default=3000)
    args = parser.parse_args()

    interface = args.interface
    # A TUN interface nobody reads: what the application sends there is lost.
    # It goes away with this process.
    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", interface.encode(), IFF_TUN | IFF_NO_PI))
    run(["ip", "link", "set", interface, "up"])

    def stop(*_):
        os.close(tun)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # RFC 4380 §5.1.2: DF clear in the outer IPv4 header (Linux sets it by
    # default): this client is broken only in the way its mode says.
    sock.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
    sock.bind(("0.0.0.0", 0))
    sock.settimeout(0.05)
    server = (args.server, 3544)
    fixed = bytes.fromhex("0123456789abcdef")
    address = None
    pending = None  # (address, when) for accept-any-ra-late
    nonce = None
    next_rs = 0.0
    any_ra = args.fault in ("accept-any-ra", "accept-any-ra-late")
    server_prefix = bytes.fromhex("20010000") + socket.inet_aton(args.server)

    def configure(new_address):
        text = socket.inet_ntop(socket.AF_INET6, new_address)
        if subprocess.run(["ip", "-6", "addr", "add", text + "/64", "dev", interface, "nodad"]).returncode != 0:
            print("could not add %s to %s" % (text, interface), flush=True)
        run(["ip", "-6", "route", "add", "2000::/3", "dev", interface])
        print("qualified %s" % text, flush=True)

    print("ready broken-client %s" % args.fault, flush=True)
    while True:
        now = time.monotonic()
        if pending and now >= pending[1]:
            address = pending[0]
            pending = None
            configure(address)
        if now >= next_rs:
            nonce = fixed if args.fault == "fixed-nonce" else os.urandom(8)
            sock.sendto(router_solicitation(nonce), server)
            next_rs = now + (args.refresh_ms if address else args.retry_ms) / 1000.0
        try:
            datagram, sender = sock.recvfrom(65535)
        except socket.timeout:
            continue
        parsed = parse(datagram)
        if parsed is None:
            continue
        got_nonce, origin, packet = parsed
        next_header, source, destination = packet[6], packet[8:24], packet[24:40]
        body = packet[40:]
        if next_header == 58 and len(body) >= 4 and body[0] == 134:
            found = prefixes(body)
            valid = got_nonce == nonce and origin is not None and len(found) == 1
            if address is None and pending is None and (valid or any_ra):
                prefix = found[0] if found else server_prefix
                port, mapped = origin if origin else (0, b"\0\0\0\0")
                iid = b"\0\0" + struct.pack("!H", port ^ 0xFFFF) + bytes(b ^ 0xFF for b in mapped)
                if args.fault == "accept-any-ra-late":
                    pending = (prefix + iid, time.monotonic() + 1.5)
                    next_rs = time.monotonic()  # one more RS at once
                    continue
                address = prefix + iid
                configure(address)
                next_rs = time.monotonic() + args.refresh_ms / 1000.0
            continue
        if args.fault == "stateless" and address and destination == address and next_header == 58 and \
                len(body) >= 8 and body[0] == 128:
            reply = icmpv6(address, source, bytes([129, 0, 0, 0]) + body[4:])
            sock.sendto(ipv6(address, source, 58, reply, 64), sender)


if __name__ == "__main__":
    main()
