#!/usr/bin/python3
"""Measure how fast postern-server accepts mail for a local user.

Starts postern-server on a generated configuration with two SMTP listeners
on 127.0.0.1: one without TLS and trusted, one with STARTTLS. Then SESSIONS
concurrent sessions send MESSAGES messages in all, each of SIZE octets, to
one local account. A session stays open for many messages and pipelines
MAIL, RCPT and DATA (RFC 2920). A message counts when the server replies
250 after its data, which it does only once the message is fsynced into
the Maildir.

Prints one line per scenario: messages per second, and CPU seconds of the
server process (utime plus stime from /proc/PID/stat) per message, taken
from before the first connection to after the last reply. The line also
gives this script's own CPU per message, so a reader can tell when the
load client, and not the server, was the limit.
"""

import argparse
import base64
import sys
import time

import postern_bench as bench

USER = "bench"
PASSWORD = "bench-password-1"
SENDER = f"sender@{bench.IDENTITY}"
RECIPIENT = f"{USER}@{bench.IDENTITY}"
SCENARIOS = ("plain", "starttls")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench.add_common_arguments(parser)
    parser.add_argument(
        "--sessions", type=bench.positive_int, default=20,
        help="concurrent SMTP sessions (default: %(default)s)")
    parser.add_argument(
        "--messages", type=bench.positive_int, default=2000,
        help="messages per scenario, over all sessions "
             "(default: %(default)s)")
    parser.add_argument(
        "--size", type=bench.positive_int, default=10240,
        help="message size in octets, headers included "
             "(default: %(default)s)")
    parser.add_argument(
        "--scenario", choices=SCENARIOS + ("all",), default="all",
        help="plain: the listener without TLS, trusted, no AUTH; "
             "starttls: STARTTLS then AUTH PLAIN (default: all)")
    args = parser.parse_args()
    minimum = len(message_headers()) + 2
    if args.size < minimum:
        parser.error(f"--size {args.size} is below {minimum}, the headers "
                     "and one empty body line")
    return args


def message_headers():
    return (f"From: <{SENDER}>\r\nTo: <{RECIPIENT}>\r\n"
            "Subject: benchmark\r\n\r\n").encode("ascii")


def make_message(size):
    """Return a message of exactly `size` octets, headers included, with
    CRLF line ends, lines of at most 78 octets and none that starts with a
    dot, followed by the end-of-data line, which is not counted."""
    message = bytearray(message_headers())
    remaining = size - len(message)
    while remaining >= 80:
        message += b"x" * 76 + b"\r\n"
        remaining -= 78
    # The last line takes the rest: 2 to 79 octets with its CRLF.
    message += b"y" * (remaining - 2) + b"\r\n"
    return bytes(message) + b".\r\n"


def open_session(server, scenario):
    """Connect, greet and, for starttls, secure and authenticate."""
    if scenario == "plain":
        connection = bench.LineSocket(server.port("smtp-plain"))
    else:
        connection = bench.LineSocket(server.port("smtp-starttls"))
    connection.read_smtp_reply(220)
    connection.send(f"EHLO client.{bench.IDENTITY}\r\n".encode())
    connection.read_smtp_reply(250)
    if scenario == "starttls":
        connection.send(b"STARTTLS\r\n")
        connection.read_smtp_reply(220)
        connection.start_tls()
        connection.send(f"EHLO client.{bench.IDENTITY}\r\n".encode())
        connection.read_smtp_reply(250)
        credentials = base64.b64encode(
            f"\0{USER}\0{PASSWORD}".encode()).decode()
        connection.send(f"AUTH PLAIN {credentials}\r\n".encode())
        connection.read_smtp_reply(235)
    return connection


def send_messages(connection, counter, message):
    """Send messages on one session until the counter has none left."""
    envelope = (f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{RECIPIENT}>\r\n"
                "DATA\r\n").encode()
    while counter.take():
        connection.send(envelope)
        connection.read_smtp_reply(250)
        connection.read_smtp_reply(250)
        connection.read_smtp_reply(354)
        connection.send(message)
        connection.read_smtp_reply(250)
        counter.finish_one()


def run_scenario(server, scenario, args):
    message = make_message(args.size)
    counter = bench.WorkCounter(args.messages,
                                time.monotonic() + args.timeout)
    tls_descriptions = set()

    def session(index):
        connection = open_session(server, scenario)
        try:
            if scenario == "starttls":
                tls_descriptions.add(connection.tls_description())
            send_messages(connection, counter, message)
            connection.send(b"QUIT\r\n")
            connection.read_smtp_reply(221)
        finally:
            connection.close()

    cpu_before = server.cpu_seconds()
    client_cpu_before = bench.own_cpu_seconds()
    started = time.monotonic()
    bench.run_workers(args.sessions, session, counter)
    elapsed = time.monotonic() - started
    server_cpu = server.cpu_seconds() - cpu_before
    client_cpu = bench.own_cpu_seconds() - client_cpu_before
    return report(server, scenario, args, counter, elapsed, server_cpu,
                  client_cpu, tls_descriptions)


def report(server, scenario, args, counter, elapsed, server_cpu,
           client_cpu, tls_descriptions):
    """Print the result line and return True when every message was
    accepted and is in the Maildir."""
    in_maildir = server.maildir_count(USER)
    done = max(counter.done, 1)
    fields = {
        "sessions": args.sessions,
        "size": args.size,
        "accepted": counter.done,
        "seconds": f"{elapsed:.2f}",
        "msg_per_s": f"{counter.done / elapsed:.1f}",
        "server_cpu_ms_per_msg": f"{1000 * server_cpu / done:.3f}",
        "client_cpu_ms_per_msg": f"{1000 * client_cpu / done:.3f}",
        "maildir": in_maildir,
    }
    if tls_descriptions:
        fields["tls"] = ",".join(sorted(tls_descriptions))
    complete = (counter.done == args.messages
                and in_maildir == args.messages and not counter.errors)
    fields["result"] = "ok" if complete else "FAILED"
    bench.print_result(f"smtp_accept {scenario}", fields)
    for error in counter.errors:
        print(f"  error: {error}", file=sys.stderr)
    if in_maildir != counter.done:
        print(f"  error: {counter.done} messages accepted but "
              f"{in_maildir} in the Maildir", file=sys.stderr)
    return complete


def main():
    args = parse_arguments()
    scenarios = SCENARIOS if args.scenario == "all" else (args.scenario,)
    complete = True
    for scenario in scenarios:
        # A fresh server per scenario, so each starts with an empty
        # Maildir and its CPU count holds only its own work.
        listeners = [
            bench.Listener("smtp-plain", "smtp", "none", trusted=True),
            bench.Listener("smtp-starttls", "smtp", "starttls"),
        ]
        with bench.ServerProcess(args.server, listeners,
                                 tmp_dir=args.tmp_dir,
                                 keep=args.keep) as server:
            server.add_user(USER, PASSWORD)
            server.start()
            complete = run_scenario(server, scenario, args) and complete
    return 0 if complete else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except bench.BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
