#!/usr/bin/python3
"""Measure postern-server's memory per idle connection and its greeting
time while the connections are held.

For each scenario, starts a fresh postern-server on 127.0.0.1, warms it up
with a few connections, and reads its proportional set size (PSS, from
/proc/PID/smaps_rollup). Then opens CONNECTIONS connections one after
another, reads each greeting (after the TLS handshake for a TLS scenario)
and leaves them idle. After a settling pause it reads the PSS again and
reports the growth per connection. While they are still held it times
SAMPLES new clients from connect to their complete greeting line, and
checks that the server has closed none of the held connections.

Scenarios: smtp (no TLS), smtps (implicit TLS), pop3 (no TLS) and pop3s
(implicit TLS). The server's session limit is 10,000 per protocol, so
CONNECTIONS plus one must stay within it. Raises this process's soft limit
on open files, which the server inherits, up to the hard limit.
"""

import argparse
import ssl
import statistics
import sys
import time

import postern_bench as bench

WARM_UP_CONNECTIONS = 20
SETTLE_SECONDS = 1.0
SCENARIOS = {
    # name: (protocol, listener TLS mode)
    "smtp": ("smtp", "none"),
    "smtps": ("smtp", "implicit"),
    "pop3": ("pop3", "none"),
    "pop3s": ("pop3", "implicit"),
}
# Descriptors this process and the server need besides the connections.
SPARE_DESCRIPTORS = 100


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench.add_common_arguments(parser)
    parser.add_argument(
        "--connections", type=bench.positive_int, default=1000,
        help="idle connections held open (default: %(default)s)")
    parser.add_argument(
        "--samples", type=bench.positive_int, default=20,
        help="new clients timed while the connections are held "
             "(default: %(default)s)")
    parser.add_argument(
        "--scenario", choices=tuple(SCENARIOS) + ("all",), default="all",
        help="smtp, smtps, pop3 or pop3s (default: all)")
    return parser.parse_args()


def open_greeted(port, protocol, implicit_tls):
    """Connect, finish the TLS handshake if any, and read the greeting."""
    connection = bench.LineSocket(port, implicit_tls=implicit_tls)
    try:
        if protocol == "smtp":
            connection.read_smtp_reply(220)
        else:
            connection.read_pop3_ok()
    except BaseException:
        connection.close()
        raise
    return connection


def quit_and_close(connection, protocol):
    try:
        connection.send(b"QUIT\r\n")
        if protocol == "smtp":
            connection.read_smtp_reply(221)
        else:
            connection.read_pop3_ok()
    finally:
        connection.close()


def greeting_times_ms(port, protocol, implicit_tls, samples):
    """Return the milliseconds from connect to a complete greeting line for
    `samples` new clients, one after another."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        connection = open_greeted(port, protocol, implicit_tls)
        times.append(1000 * (time.perf_counter() - started))
        quit_and_close(connection, protocol)
    return times


def count_closed(connections):
    """Return how many held connections the server has closed or written
    to. A read that would block means the connection is open and idle."""
    closed = 0
    for connection in connections:
        connection.sock.setblocking(False)
        try:
            # TLS 1.3 session tickets are consumed here without data.
            data = connection.sock.recv(4096)
            closed += 1 if data == b"" else 0
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError:
            closed += 1
    return closed


def run_scenario(server, name, args):
    protocol, tls_mode = SCENARIOS[name]
    implicit_tls = tls_mode == "implicit"
    port = server.port(name)
    deadline = time.monotonic() + args.timeout

    greeting_times_ms(port, protocol, implicit_tls, WARM_UP_CONNECTIONS)
    time.sleep(SETTLE_SECONDS)
    idle_greeting = greeting_times_ms(port, protocol, implicit_tls,
                                      args.samples)
    pss_before = server.pss_kib()

    held_connections = []
    try:
        started = time.monotonic()
        for _ in range(args.connections):
            if time.monotonic() > deadline:
                raise bench.BenchmarkError(
                    f"{name}: opened only {len(held_connections)} "
                    f"connections within {args.timeout} s")
            held_connections.append(
                open_greeted(port, protocol, implicit_tls))
        open_seconds = time.monotonic() - started
        time.sleep(SETTLE_SECONDS)
        pss_after = server.pss_kib()
        loaded_greeting = greeting_times_ms(port, protocol, implicit_tls,
                                            args.samples)
        closed = count_closed(held_connections)
    finally:
        for connection in held_connections:
            connection.close()

    growth = pss_after - pss_before
    bench.print_result(f"idle_memory {name}", {
        "connections": args.connections,
        "open_seconds": f"{open_seconds:.2f}",
        "pss_before_kib": pss_before,
        "pss_after_kib": pss_after,
        "kib_per_connection": f"{growth / args.connections:.1f}",
        "greeting_ms_idle_median": f"{statistics.median(idle_greeting):.2f}",
        "greeting_ms_held_median":
            f"{statistics.median(loaded_greeting):.2f}",
        "greeting_ms_held_max": f"{max(loaded_greeting):.2f}",
        "closed_by_server": closed,
        "result": "ok" if closed == 0 else "FAILED",
    })
    return closed == 0


def check_file_limit(connections):
    needed = connections + SPARE_DESCRIPTORS
    limit = bench.raise_file_limit(needed)
    if limit < needed:
        raise bench.BenchmarkError(
            f"the hard limit on open files is {limit}, below the {needed} "
            f"that {connections} connections need; lower --connections or "
            "raise the hard limit (ulimit -Hn)")


def main():
    args = parse_arguments()
    check_file_limit(args.connections)
    names = tuple(SCENARIOS) if args.scenario == "all" else (args.scenario,)
    complete = True
    for name in names:
        protocol, tls_mode = SCENARIOS[name]
        # A fresh server per scenario, so that connections of an earlier
        # scenario leave no memory behind in this one's baseline.
        listeners = [bench.Listener(name, protocol, tls_mode)]
        with bench.ServerProcess(args.server, listeners,
                                 tmp_dir=args.tmp_dir,
                                 keep=args.keep) as server:
            server.start()
            complete = run_scenario(server, name, args) and complete
    return 0 if complete else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except bench.BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
