#!/usr/bin/env python3
"""A tiny Teredo server with one planted bug, for the wire fuzzer's lab tests.

It answers a valid router solicitation (RFC 4380 section 5.3.2: optional
authentication encapsulation, optional origin indication, an RS from a
link-local address to ff02::2, hop limit 255, code 0, good checksum) with a
valid router advertisement that echoes the RS's nonce, from the address the
RS reached, so the fuzzer's liveness probe passes. Everything else is
dropped silently.

The planted bug: it trusts the lengths of an authentication encapsulation.
When ID-len and AU-len announce more bytes than the UDP payload has after the
4-byte header (4 + ID-len + AU-len > payload length: "an authentication
header with AU-len past the remaining bytes", RFC 4380 section 5.1.1), it
reads past the buffer, and then, as --bug says:
  crash      kills itself with SIGSEGV (the default);
  traceback  reads the nonce byte past the end: an IndexError, whose Python
             traceback ends the process (exit status 1);
  deaf       stops answering anything, but lives on;
  leak       keeps 1 MiB for every such datagram and goes on answering.
Nothing else triggers it.

With --secret and --client-id it is a server requiring secure
qualification (section 5.2.2): it answers only RSs for that client whose
HMAC-SHA1 authentication value verifies. --bug signed-option then plants a
bug behind that check instead: SIGSEGV on a correctly signed RS carrying an
ND option whose length byte is 0 (RFC 4861 section 4.6: such a packet must
be discarded). Only RSs signed with the secret reach it. Bounded: it exits by itself after --lifetime seconds.
"""
import argparse
import hashlib
import hmac
import os
import select
import signal
import socket
import struct
import time

RCVBUF = 4 << 20


def planted_defect(payload: bytes) -> bool:
    return len(payload) >= 4 and payload[0:2] == b"\x00\x01" and 4 + payload[2] + payload[3] > len(payload)


def checksum(source: bytes, destination: bytes, message: bytes) -> int:
    data = source + destination + struct.pack("!IxxxB", len(message), 58) + message
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def parse_rs(payload: bytes, secret=None, expected_id=b"", on_signed=None):
    """(nonce or None, client id) of a valid RS, else None. With a secret,
    only an RS for expected_id whose value verifies; on_signed(packet) sees
    every signed IPv6 packet before the RS checks."""
    if len(payload) < 4:
        return None
    at, nonce, client_id, value, confirmation = 0, None, b"", b"", b""
    if payload[0:2] == b"\x00\x01":
        id_len, au_len = payload[2], payload[3]
        end = 4 + id_len + au_len + 9
        if len(payload) < end:
            return None
        client_id = payload[4:4 + id_len]
        value = payload[4 + id_len:4 + id_len + au_len]
        nonce = payload[4 + id_len + au_len:end - 1]
        confirmation = payload[end - 1:end]
        at = end
    origin = b""
    if payload[at:at + 2] == b"\x00\x00":
        origin = payload[at:at + 8]
        at += 8
    packet = payload[at:]
    if secret is not None:
        if nonce is None or client_id != expected_id:
            return None
        mac = hmac.new(secret, nonce + confirmation + origin + packet, hashlib.sha1).digest()
        if not hmac.compare_digest(mac, value):
            return None
        if on_signed is not None:
            on_signed(packet)
    if len(packet) < 48 or packet[0] >> 4 != 6:
        return None
    length = struct.unpack("!H", packet[4:6])[0]
    if 40 + length != len(packet) or packet[6] != 58 or packet[7] != 255:
        return None
    source, destination, icmp = packet[8:24], packet[24:40], packet[40:]
    if source[0:2] != b"\xfe\x80" or destination != bytes.fromhex("ff020000000000000000000000000002"):
        return None
    if icmp[0] != 133 or icmp[1] != 0 or checksum(source, destination, icmp[:2] + b"\x00\x00" + icmp[4:]) != struct.unpack("!H", icmp[2:4])[0]:
        return None
    return nonce, client_id, source


def ra_payload(server: str, client: tuple, rs) -> bytes:
    nonce, client_id, rs_source = rs
    server_v4 = socket.inet_aton(server)
    inverted = bytes(b ^ 0xFF for b in server_v4)
    source = bytes.fromhex("fe80000000000000" + "8000" + "f227") + inverted  # cone bit, ~3544, ~server
    prefix = bytes.fromhex("20010000") + server_v4 + bytes(8)
    option = struct.pack("!BBBBIII", 3, 4, 64, 0x80, 0xFFFFFFFF, 0xFFFFFFFF, 0) + prefix
    body = struct.pack("!BBHII", 0, 0, 1800, 0, 0) + option
    message = struct.pack("!BBH", 134, 0, 0) + body
    message = message[:2] + struct.pack("!H", checksum(source, rs_source, message)) + message[4:]
    packet = struct.pack("!IHBB", 6 << 28, len(message), 58, 255) + source + rs_source + message
    out = b""
    if nonce is not None:
        out += struct.pack("!HBB", 1, len(client_id), 0) + client_id + nonce + b"\x00"
    port = client[1] ^ 0xFFFF
    address = bytes(b ^ 0xFF for b in socket.inet_aton(client[0]))
    out += struct.pack("!HH", 0, port) + address
    return out + packet


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifetime", type=float, default=600.0)
    parser.add_argument("--bug", choices=["crash", "traceback", "deaf", "leak", "signed-option"], default="crash")
    parser.add_argument("--secret", help="require RSs signed with this secret (HMAC-SHA1)")
    parser.add_argument("--client-id", default="", help="the client identifier the secret belongs to")
    parser.add_argument("addresses", nargs="+")
    args = parser.parse_args()
    deadline = time.monotonic() + args.lifetime
    sockets = {}
    for address in args.addresses:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.setsockopt(socket.SOL_SOCKET, 33, RCVBUF)  # SO_RCVBUFFORCE (we run as root in the lab)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        s.bind((address, 3544))
        s.setblocking(False)
        sockets[s] = address
    print("planted_server ready", flush=True)
    deaf = False
    leaked = []  # --bug leak: 1 MiB kept for every defective datagram
    while time.monotonic() < deadline:
        ready, _, _ = select.select(list(sockets), [], [], 0.5)
        for s in ready:
            for _ in range(256):
                try:
                    payload, source = s.recvfrom(65535)
                except BlockingIOError:
                    break
                if args.bug != "signed-option" and planted_defect(payload):
                    if args.bug == "crash":
                        os.kill(os.getpid(), signal.SIGSEGV)
                    if args.bug == "traceback":
                        nonce_end = payload[4 + payload[2] + payload[3] + 8]  # past the end: IndexError
                        print(nonce_end)
                    if args.bug == "leak":
                        leaked.append(bytearray(b"\x01" * (1 << 20)))  # touched, so resident
                    else:
                        deaf = True
                secret = args.secret.encode() if args.secret else None

                def signed_option_bug(packet: bytes) -> None:
                    if args.bug != "signed-option" or len(packet) < 48 or packet[6] != 58 or packet[40] != 133:
                        return
                    options = packet[48:]
                    while len(options) >= 2:
                        if options[1] == 0:
                            os.kill(os.getpid(), signal.SIGSEGV)
                        options = options[8 * options[1]:]

                rs = parse_rs(payload, secret, args.client_id.encode(), signed_option_bug)
                if rs is not None and not deaf:
                    s.sendto(ra_payload(sockets[s], source, rs), source)


if __name__ == "__main__":
    main()
