#!/usr/bin/env python3
"""A deliberately broken Teredo "server" for the judging tests.

It listens on UDP 3544 of the two server addresses and answers nothing; it
kills itself with SIGSEGV on the first datagram (--crash-on first) or only on
a truncated authentication encapsulation (--crash-on truncated-auth: the
payload starts 00 01 but is shorter than 13 + ID-len + AU-len bytes, RFC 4380
section 5.1.1). With --supervise it runs as a supervisor that restarts its
crashed worker, as Debian's miredo-server does, so its own PID lives on.
Bounded: it exits by itself after --lifetime seconds.
"""
import argparse
import os
import select
import signal
import socket
import time


def truncated_auth(payload: bytes) -> bool:
    if len(payload) < 2 or payload[0:2] != b"\x00\x01":
        return False
    if len(payload) < 4:
        return True
    return len(payload) < 4 + payload[2] + payload[3] + 9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--crash-on", choices=["first", "truncated-auth", "never"], required=True)
    parser.add_argument("--lifetime", type=float, default=120.0)
    parser.add_argument("--supervise", action="store_true")
    parser.add_argument("addresses", nargs="+")
    args = parser.parse_args()
    deadline = time.monotonic() + args.lifetime
    if args.supervise:
        while time.monotonic() < deadline:
            worker = os.fork()
            if worker == 0:
                serve(args, deadline)
                os._exit(0)
            _, status = os.waitpid(worker, 0)
            print(f"worker {worker} ended with status {status}; restarting", flush=True)
            time.sleep(0.2)
        return
    serve(args, deadline)


def serve(args: argparse.Namespace, deadline: float) -> None:
    sockets = []
    for address in args.addresses:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, 3544))
        sockets.append(s)
    print("crashing_server ready", flush=True)
    while time.monotonic() < deadline:
        ready, _, _ = select.select(sockets, [], [], 0.5)
        for s in ready:
            payload, source = s.recvfrom(65535)
            print(f"datagram of {len(payload)} bytes from {source[0]}:{source[1]}", flush=True)
            if args.crash_on == "first" or (args.crash_on == "truncated-auth" and truncated_auth(payload)):
                os.kill(os.getpid(), signal.SIGSEGV)


if __name__ == "__main__":
    main()
