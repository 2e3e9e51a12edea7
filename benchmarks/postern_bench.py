"""Shared parts of the Postern benchmark scripts.

A ServerProcess runs postern-server on a generated configuration in a
temporary folder, with every listener on 127.0.0.1 and a port that was free
a moment before. The helpers read the server's CPU time and memory from
/proc, and LineSocket speaks line-based protocols over a plain or TLS
socket. Python 3 standard library only; Linux only, because of /proc.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

IDENTITY = "bench.test"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 40.0
COMMAND_TIMEOUT = 60.0
SOCKET_TIMEOUT = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchmarkError(Exception):
    """A server reply or state that makes the measurement invalid."""


def add_common_arguments(parser):
    """Add the options that every server benchmark takes."""
    parser.add_argument(
        "server", help="path of the built postern-server binary")
    parser.add_argument(
        "--tmp-dir", default=None,
        help="folder for the temporary data folder (default: the system "
             "temporary folder, usually /tmp)")
    parser.add_argument(
        "--timeout", type=float, default=600.0,
        help="seconds after which a scenario stops and reports failure "
             "(default: %(default)s)")
    parser.add_argument(
        "--keep", action="store_true",
        help="keep the temporary folder (configuration, log, mail)")


def positive_int(text):
    """Parse a command-line integer that must be at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not at least 1")
    return value


def free_ports(count):
    """Return `count` distinct TCP ports of 127.0.0.1 that were free when
    checked. The probe sockets stay open together, so no port repeats."""
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probes.append(probe)
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def toml_value(value):
    """Format a bool, int, string or list of them as TOML. JSON string
    escapes are valid TOML basic-string escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(value)


def process_cpu_seconds(pid):
    """Return the user plus system CPU seconds of a process and all its
    threads, from fields 14 and 15 of /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        text = stat.read()
    # The command name (field 2) is in parentheses and may contain spaces,
    # so the fields are counted from the last ')'.
    fields = text[text.rindex(")") + 2:].split()
    user_ticks, system_ticks = int(fields[11]), int(fields[12])
    return (user_ticks + system_ticks) / CLOCK_TICKS


def process_pss_kib(pid):
    """Return the proportional set size of a process in KiB, from
    /proc/PID/smaps_rollup."""
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise BenchmarkError(f"no Pss line in /proc/{pid}/smaps_rollup")


def own_cpu_seconds():
    """Return the user plus system CPU seconds of this process."""
    times = os.times()
    return times.user + times.system


def raise_file_limit(needed):
    """Raise the soft limit on open files to `needed`, or to the hard limit
    when that is lower. Returns the soft limit in force afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def make_client_tls_context():
    """Return a client TLS context that accepts the server's self-signed
    certificate without checking it, as a load client may. It loads no CA
    certificates: loading them for each connection cost the client about
    20 ms of CPU per login in a trial run."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


# One context for every connection, as a real client would keep it.
CLIENT_TLS_CONTEXT = make_client_tls_context()


def print_result(name, fields):
    """Print one result line: the scenario name, then key=value pairs."""
    parts = [name] + [f"{key}={value}" for key, value in fields.items()]
    print(" ".join(parts), flush=True)


class Listener:
    """One [[listener]] of the generated configuration."""

    def __init__(self, name, protocol, tls, trusted=False):
        self.name = name
        self.protocol = protocol
        self.tls = tls
        self.trusted = trusted
        self.port = None

    def to_toml(self):
        return (
            "[[listener]]\n"
            f"name = {toml_value(self.name)}\n"
            f"protocol = {toml_value(self.protocol)}\n"
            f"address = {toml_value(f'127.0.0.1:{self.port}')}\n"
            f"tls = {toml_value(self.tls)}\n"
            f"trusted = {toml_value(self.trusted)}\n")


class ServerProcess:
    """postern-server run on a generated configuration in a temporary
    folder, which close() removes unless `keep` is set.

    listeners: Listener objects; each gets a free port.
    pop3_auth: {mechanism: "deny" | "allow" | "tls"} for [auth.pop3].
    """

    def __init__(self, binary, listeners, pop3_auth=None, tmp_dir=None,
                 keep=False):
        self.binary = os.path.abspath(binary)
        if not os.access(self.binary, os.X_OK):
            raise BenchmarkError(
                f"{binary}: not an executable file; pass the path of the "
                "built postern-server")
        self.keep = keep
        self.root = tempfile.mkdtemp(prefix="postern-bench-", dir=tmp_dir)
        self.data_dir = os.path.join(self.root, "data")
        self.config_path = os.path.join(self.root, "postern.toml")
        self.log_path = os.path.join(self.root, "server.log")
        self.listeners = {listener.name: listener for listener in listeners}
        for listener, port in zip(self.listeners.values(),
                                  free_ports(len(self.listeners))):
            listener.port = port
        self.pop3_auth = dict(pop3_auth or {})
        self.process = None
        self._log_file = None
        self._write_config()

    def _write_config(self):
        parts = [
            "[server]\n"
            f"identity = {toml_value(IDENTITY)}\n"
            f"data_dir = {toml_value(self.data_dir)}\n"
            f"local_domains = {toml_value([IDENTITY])}\n"]
        parts += [listener.to_toml() for listener in self.listeners.values()]
        if self.pop3_auth:
            parts.append("[auth.pop3]\n" + "".join(
                f"{key} = {toml_value(value)}\n"
                for key, value in self.pop3_auth.items()))
        with open(self.config_path, "w", encoding="utf-8") as config:
            config.write("\n".join(parts))

    def port(self, name):
        return self.listeners[name].port

    def add_user(self, name, password):
        """Add an account with `user add --password-stdin`."""
        result = subprocess.run(
            [self.binary, "--config", self.config_path, "user", "add", name,
             "--password-stdin"],
            input=password + "\n", capture_output=True, text=True,
            timeout=COMMAND_TIMEOUT, check=False)
        if result.returncode != 0:
            raise BenchmarkError(
                f"user add {name} failed with status {result.returncode}: "
                f"{result.stderr.strip()}")

    def start(self):
        """Start `run` and wait for its `event=started` log line."""
        self._log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.binary, "--config", self.config_path, "run"],
            stdin=subprocess.DEVNULL, stdout=self._log_file,
            stderr=self._log_file)
        deadline = time.monotonic() + START_TIMEOUT
        while "event=started" not in self.log_text():
            if self.process.poll() is not None:
                raise BenchmarkError(
                    "postern-server exited with status "
                    f"{self.process.returncode} during start-up:\n"
                    f"{self.log_text()}")
            if time.monotonic() > deadline:
                raise BenchmarkError(
                    f"postern-server did not start within {START_TIMEOUT} "
                    f"s:\n{self.log_text()}")
            time.sleep(0.05)
        return self

    @property
    def pid(self):
        return self.process.pid

    def cpu_seconds(self):
        return process_cpu_seconds(self.process.pid)

    def pss_kib(self):
        return process_pss_kib(self.process.pid)

    def maildir_count(self, user):
        """Return the number of messages in new/ and cur/ of a Maildir."""
        count = 0
        for folder in ("new", "cur"):
            path = os.path.join(self.data_dir, "mail", user, folder)
            if os.path.isdir(path):
                count += len(os.listdir(path))
        return count

    def log_text(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def stop(self):
        """Send SIGTERM and wait; kill the process if it has not exited
        after STOP_TIMEOUT seconds. Returns the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        status = self.process.returncode
        self.process = None
        self._log_file.close()
        return status

    def close(self):
        """Stop the server and remove the temporary folder."""
        self.stop()
        if self.keep:
            print(f"kept {self.root}", flush=True)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class LineSocket:
    """A client connection that reads CRLF-terminated lines, over TCP and
    optionally TLS, with a buffer so that several pipelined replies can
    arrive in one read."""

    def __init__(self, port, implicit_tls=False, timeout=SOCKET_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buffer = bytearray()
        if implicit_tls:
            self.start_tls()

    def start_tls(self):
        """Run the TLS handshake on the connection. Data still in the
        buffer arrived before TLS, where anyone on the path could have
        inserted it, so it is an error and not part of the TLS session."""
        if self.buffer:
            raise BenchmarkError(
                f"data before the TLS handshake: {bytes(self.buffer)!r}")
        self.sock = CLIENT_TLS_CONTEXT.wrap_socket(
            self.sock, server_hostname=IDENTITY)

    def tls_description(self):
        """Return "VERSION/CIPHER" of the TLS connection."""
        return f"{self.sock.version()}/{self.sock.cipher()[0]}"

    def send(self, data):
        self.sock.sendall(data)

    def read_line(self):
        """Return the next line without its CRLF."""
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 2]
                return line
            chunk = self.sock.recv(65536)
            if not chunk:
                raise BenchmarkError("the server closed the connection")
            self.buffer += chunk

    def read_smtp_reply(self, expected_code):
        """Read one SMTP reply, possibly of several lines, and raise
        BenchmarkError unless its code is `expected_code`."""
        lines = [self.read_line()]
        while lines[-1][3:4] == b"-":
            lines.append(self.read_line())
        if not lines[-1].startswith(str(expected_code).encode()):
            raise BenchmarkError(
                f"expected SMTP {expected_code}, got {lines!r}")
        return lines

    def read_pop3_ok(self):
        """Read one POP3 status line and raise BenchmarkError unless it is
        +OK."""
        line = self.read_line()
        if not line.startswith(b"+OK"):
            raise BenchmarkError(f"expected POP3 +OK, got {line!r}")
        return line

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class WorkCounter:
    """Work items handed out to threads until `total` are handed out, an
    error is recorded or the deadline passes, with counts of completed
    items and the errors."""

    def __init__(self, total, deadline):
        self.total = total
        self.deadline = deadline
        self.handed_out = 0
        self.done = 0
        self.errors = []
        self._lock = threading.Lock()

    def take(self):
        """Return True when the caller should do one more item."""
        with self._lock:
            if self.handed_out >= self.total or self.errors:
                return False
            if time.monotonic() > self.deadline:
                return False
            self.handed_out += 1
            return True

    def finish_one(self):
        with self._lock:
            self.done += 1

    def fail(self, error):
        with self._lock:
            self.errors.append(error)


def run_workers(count, target, counter):
    """Run `target(index)` in `count` threads and wait for all of them. An
    exception in a thread is recorded in `counter` and stops handing out
    work."""
    def guarded(index):
        try:
            target(index)
        except (OSError, BenchmarkError) as error:
            counter.fail(f"worker {index}: {error}")

    threads = [threading.Thread(target=guarded, args=(index,))
               for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
