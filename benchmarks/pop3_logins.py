#!/usr/bin/python3
"""Measure POP3 logins per second of postern-server.

Starts postern-server on a generated configuration with three POP3
listeners on 127.0.0.1: without TLS, with STLS and with implicit TLS, and
with [auth.pop3] USER = "allow" so that USER/PASS works in clear. Then
CLIENTS concurrent clients each repeat one login cycle: connect, read the
greeting, (STLS and handshake), USER, PASS, QUIT, and wait for the server
to close. Each client logs in to its own empty account, because a POP3
login locks the maildrop (RFC 1939, section 4) and a second login to it
would fail until the first session has ended.

Every TLS handshake is a full one, because the client does not resume
sessions. Prints one line per scenario: logins per second, and CPU
milliseconds of the server process (utime plus stime from /proc/PID/stat)
and of this script per login. The server's cost per login is mostly the
crypt(3) hash check of the password.
"""

import argparse
import ssl
import sys
import time

import postern_bench as bench

PASSWORD = "bench-password-1"
SCENARIOS = ("clear", "stls", "implicit")
LISTENER_OF_SCENARIO = {
    "clear": "pop3-clear", "stls": "pop3-stls", "implicit": "pop3s"}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench.add_common_arguments(parser)
    parser.add_argument(
        "--clients", type=bench.positive_int, default=4,
        help="concurrent clients, each with its own account "
             "(default: %(default)s)")
    parser.add_argument(
        "--logins", type=bench.positive_int, default=400,
        help="logins per scenario, over all clients "
             "(default: %(default)s)")
    parser.add_argument(
        "--scenario", choices=SCENARIOS + ("all",), default="all",
        help="clear: USER/PASS without TLS; stls: STLS first; implicit: "
             "TLS from the first byte (default: all)")
    return parser.parse_args()


def user_name(index):
    return f"bench{index}"


def log_in_once(port, scenario, user):
    """Run one login cycle and return "VERSION/CIPHER" for TLS, else
    None."""
    connection = bench.LineSocket(port, implicit_tls=scenario == "implicit")
    try:
        connection.read_pop3_ok()
        if scenario == "stls":
            connection.send(b"STLS\r\n")
            connection.read_pop3_ok()
            connection.start_tls()
        connection.send(f"USER {user}\r\n".encode())
        connection.read_pop3_ok()
        connection.send(f"PASS {PASSWORD}\r\n".encode())
        connection.read_pop3_ok()
        connection.send(b"QUIT\r\n")
        connection.read_pop3_ok()
        # The maildrop lock is released when the session ends, so the
        # next login to this account waits for the server to close.
        wait_for_close(connection)
        if scenario == "clear":
            return None
        return connection.tls_description()
    finally:
        connection.close()


def wait_for_close(connection):
    try:
        while connection.sock.recv(4096):
            pass
    except (ConnectionResetError, ssl.SSLEOFError):
        pass


def run_scenario(server, scenario, args):
    port = server.port(LISTENER_OF_SCENARIO[scenario])
    counter = bench.WorkCounter(args.logins, time.monotonic() + args.timeout)
    tls_descriptions = set()

    def client(index):
        while counter.take():
            description = log_in_once(port, scenario, user_name(index))
            if description:
                tls_descriptions.add(description)
            counter.finish_one()

    cpu_before = server.cpu_seconds()
    client_cpu_before = bench.own_cpu_seconds()
    started = time.monotonic()
    bench.run_workers(args.clients, client, counter)
    elapsed = time.monotonic() - started
    server_cpu = server.cpu_seconds() - cpu_before
    client_cpu = bench.own_cpu_seconds() - client_cpu_before

    done = max(counter.done, 1)
    fields = {
        "clients": args.clients,
        "logins": counter.done,
        "seconds": f"{elapsed:.2f}",
        "logins_per_s": f"{counter.done / elapsed:.1f}",
        "server_cpu_ms_per_login": f"{1000 * server_cpu / done:.2f}",
        "client_cpu_ms_per_login": f"{1000 * client_cpu / done:.2f}",
    }
    if tls_descriptions:
        fields["tls"] = ",".join(sorted(tls_descriptions))
    complete = counter.done == args.logins and not counter.errors
    fields["result"] = "ok" if complete else "FAILED"
    bench.print_result(f"pop3_logins {scenario}", fields)
    for error in counter.errors:
        print(f"  error: {error}", file=sys.stderr)
    return complete


def main():
    args = parse_arguments()
    scenarios = SCENARIOS if args.scenario == "all" else (args.scenario,)
    listeners = [
        bench.Listener("pop3-clear", "pop3", "none"),
        bench.Listener("pop3-stls", "pop3", "starttls"),
        bench.Listener("pop3s", "pop3", "implicit"),
    ]
    complete = True
    with bench.ServerProcess(args.server, listeners,
                             pop3_auth={"USER": "allow"},
                             tmp_dir=args.tmp_dir, keep=args.keep) as server:
        for index in range(args.clients):
            server.add_user(user_name(index), PASSWORD)
        server.start()
        for scenario in scenarios:
            complete = run_scenario(server, scenario, args) and complete
    return 0 if complete else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except bench.BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
