"""Run postern-server in a temporary data folder for integration tests.

The server binary comes from the POSTERN_SERVER environment variable, which
ctest sets. Every listener binds 127.0.0.1 on a port the OS chose free a
moment before. Set POSTERN_KEEP_TEST_DATA=1 to keep the temporary folders.
Standard library only.
"""

import base64
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

SERVER = os.environ.get("POSTERN_SERVER", "postern-server")
TEST_DATA = os.environ.get(
    "POSTERN_TEST_DATA",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))

IDENTITY = "mail.test"
LOCAL_DOMAINS = ("mail.test", "localhost")

# Name, protocol and TLS mode of the listeners of every test server, the
# same set as the embedded default.
STANDARD_LISTENERS = (
    ("smtp", "smtp", "starttls"),
    ("submission", "smtp", "starttls"),
    ("submissions", "smtp", "implicit"),
    ("pop3", "pop3", "starttls"),
    ("pop3s", "pop3", "implicit"),
)

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
COMMAND_TIMEOUT = 60.0


_ports_given = set()


def free_port():
    """Return a TCP port on 127.0.0.1 that was free when checked and that
    this process has not returned before: the kernel may hand out a port
    again once its probe socket is closed."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


def toml_string(value):
    """Quote a string for TOML. JSON escapes are valid TOML basic-string
    escapes for every character of the Basic Multilingual Plane."""
    return json.dumps(value)


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return toml_string(value)


def run_cli(*args, input=None, timeout=COMMAND_TIMEOUT):
    """Run postern-server with `args`; return the CompletedProcess with
    text stdout and stderr."""
    return subprocess.run(
        [SERVER, *args], input=input, capture_output=True, text=True,
        timeout=timeout, check=False)


class Listener:
    """One [[listener]] of a test server."""

    def __init__(self, name, protocol, tls, trusted=False, port=None):
        self.name = name
        self.protocol = protocol
        self.tls = tls
        self.trusted = trusted
        self.port = port if port is not None else free_port()

    def to_toml(self):
        return (
            "[[listener]]\n"
            f"name = {toml_string(self.name)}\n"
            f"protocol = {toml_string(self.protocol)}\n"
            f"address = {toml_string(f'127.0.0.1:{self.port}')}\n"
            f"tls = {toml_string(self.tls)}\n"
            f"trusted = {toml_value(self.trusted)}\n")


class Server:
    """A postern-server process with its own configuration and data folder.

    extra_listeners: Listener objects, or dicts of Listener's arguments,
        added to the standard five, e.g. a trusted listener without TLS.
    smtp_auth, pop3_auth: {mechanism: "deny" | "allow" | "tls"} written to
        [auth.smtp] and [auth.pop3].
    auth_settings: {key: value} written to [auth] before those tables,
        e.g. {"ntlm_v1": True}.
    assumptions: (network, user) pairs written as [[assumption]].
    extra_config: TOML text appended to the file as it is.
    server_settings: {key: value} added to [server], e.g.
        {"max_message_size": 10000}.
    """

    def __init__(self, extra_listeners=(), smtp_auth=None, pop3_auth=None,
                 assumptions=(), extra_config="", server_settings=None,
                 auth_settings=None):
        self.root = tempfile.mkdtemp(prefix="postern-test-")
        self.data_dir = os.path.join(self.root, "data")
        self.config_path = os.path.join(self.root, "postern.toml")
        self.log_path = os.path.join(self.root, "server.log")
        self.listeners = {}
        for name, protocol, tls in STANDARD_LISTENERS:
            self.listeners[name] = Listener(name, protocol, tls)
        for listener in extra_listeners:
            if isinstance(listener, dict):
                listener = Listener(**listener)
            self.listeners[listener.name] = listener
        self.smtp_auth = dict(smtp_auth or {})
        self.pop3_auth = dict(pop3_auth or {})
        self.assumptions = list(assumptions)
        self.extra_config = extra_config
        self.server_settings = dict(server_settings or {})
        self.auth_settings = dict(auth_settings or {})
        self.process = None
        self.returncode = None
        self._log_file = None
        self.write_config()

    # Configuration

    def config_text(self):
        parts = [
            "[server]\n"
            f"identity = {toml_string(IDENTITY)}\n"
            f"data_dir = {toml_string(self.data_dir)}\n"
            f"local_domains = {toml_value(LOCAL_DOMAINS)}\n"
            + "".join(f"{key} = {toml_value(value)}\n"
                      for key, value in self.server_settings.items())
        ]
        parts += [listener.to_toml() for listener in self.listeners.values()]
        if self.auth_settings:
            parts.append("[auth]\n" + "".join(
                f"{key} = {toml_value(value)}\n"
                for key, value in self.auth_settings.items()))
        for protocol, table in (("smtp", self.smtp_auth),
                                ("pop3", self.pop3_auth)):
            if table:
                lines = [f"{key} = {toml_string(value)}\n"
                         for key, value in table.items()]
                parts.append(f"[auth.{protocol}]\n" + "".join(lines))
        for network, user in self.assumptions:
            parts.append("[[assumption]]\n"
                         f"network = {toml_string(network)}\n"
                         f"user = {toml_string(user)}\n")
        if self.extra_config:
            parts.append(self.extra_config)
        return "\n".join(parts)

    def write_config(self):
        with open(self.config_path, "w", encoding="utf-8") as config:
            config.write(self.config_text())

    def make_ports_distinct(self):
        """Give a new port to each listener whose port another listener
        already has, and rewrite the configuration. free_port() checks
        each port alone, so two calls can return the same one."""
        used_ports = set()
        for listener in self.listeners.values():
            while listener.port in used_ports:
                listener.port = free_port()
            used_ports.add(listener.port)
        self.write_config()

    def pick_new_ports(self):
        """Give every listener a new free port and rewrite the
        configuration, e.g. after another process took one of them."""
        for listener in self.listeners.values():
            listener.port = free_port()
        self.make_ports_distinct()

    # Commands

    def cli(self, *args, input=None):
        """Run a postern-server command against this configuration."""
        return run_cli("--config", self.config_path, *args, input=input)

    def add_user(self, name, password, override=None, apop=False):
        """Add an account through `user add --password-stdin`."""
        args = ["user", "add", name, "--password-stdin"]
        text = password + "\n"
        if override is not None:
            args.append("--pop3-override-stdin")
            text += override + "\n"
        if apop:
            args.append("--apop")
        result = self.cli(*args, input=text)
        if result.returncode != 0:
            raise AssertionError(
                f"user add {name} failed with status {result.returncode}: "
                f"{result.stderr.strip()}")
        return result

    # The process

    def start(self):
        """Start `run` and wait until every SMTP listener accepts."""
        if self.process is not None:
            raise RuntimeError("the server is already running")
        self._log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [SERVER, "run", "--config", self.config_path],
            stdin=subprocess.DEVNULL, stdout=self._log_file,
            stderr=self._log_file)
        try:
            self._wait_until_listening()
        except Exception:
            self.stop()
            raise
        return self

    def _wait_until_listening(self):
        deadline = time.monotonic() + START_TIMEOUT
        waiting = [listener.port for listener in self.listeners.values()]
        while waiting:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"postern-server exited with status "
                    f"{self.process.returncode} during start-up:\n"
                    f"{self.log_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"postern-server did not listen on {waiting} within "
                    f"{START_TIMEOUT} s:\n{self.log_text()}")
            if self._accepts(waiting[0]):
                waiting.pop(0)
            else:
                time.sleep(0.05)

    @staticmethod
    def _accepts(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self):
        """Send SIGTERM and wait; kill the process if it does not exit in
        time. Returns the exit status."""
        if self.process is None:
            return self.returncode
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        self.returncode = self.process.returncode
        self.process = None
        self._log_file.close()
        self._log_file = None
        return self.returncode

    def close(self):
        """Stop the server and remove its folder."""
        self.stop()
        if not os.environ.get("POSTERN_KEEP_TEST_DATA"):
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # What the tests inspect

    def port(self, name):
        return self.listeners[name].port

    def maildir(self, user):
        return os.path.join(self.data_dir, "mail", user)

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8",
                      errors="replace") as log:
                return log.read()
        except FileNotFoundError:
            return ""

    def mail_files(self, user, folder="new"):
        """Return the sorted paths of the files in one Maildir folder of
        `user` (tmp, new or cur); empty when the folder does not exist."""
        return list_files(os.path.join(self.maildir(user), folder))

    def queue_files(self, folder="new"):
        """Return the sorted paths of the files in the relay queue folder
        `folder` (tmp or new); empty when it does not exist."""
        return list_files(os.path.join(self.data_dir, "queue", folder))


def list_files(folder):
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    return [os.path.join(folder, name) for name in names]


def read_bytes(path):
    with open(path, "rb") as file:
        return file.read()


class ServerTestCase(unittest.TestCase):
    """A test case with a fresh Server per test in self.server.

    Subclasses set server_options (keyword arguments of Server), and
    autostart = False to start the server themselves.
    """

    server_options = {}
    autostart = True

    def setUp(self):
        self.server = Server(**self.server_options)
        self.addCleanup(self.server.close)
        if self.autostart:
            self.server.start()


# SMTP clients for byte-exact tests

SOCKET_TIMEOUT = 10.0
CLIENT_NAME = "client.test"


def client_tls_context():
    """Return a client SSL context that accepts the test server's
    self-signed certificate without checking it."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def sasl_plain(user, password, authzid=""):
    """Return the base64 PLAIN message of RFC 4616 as ASCII text."""
    message = f"{authzid}\0{user}\0{password}".encode("utf-8")
    return base64.b64encode(message).decode("ascii")


def b64(text):
    """Return the base64 encoding of a UTF-8 string as ASCII text."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class ConnectionClosed(AssertionError):
    """The server closed the connection while a reply was expected."""


class SmtpClient:
    """An SMTP client over a plain socket that returns replies as the exact
    bytes received, so tests can compare codes, text and CRLFs.

    Every read waits at most `timeout` seconds. With implicit_tls the TLS
    handshake runs before the greeting is read.
    """

    def __init__(self, port, implicit_tls=False, timeout=SOCKET_TIMEOUT):
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buffer = b""
        if implicit_tls:
            self.sock = client_tls_context().wrap_socket(
                self.sock, server_hostname=IDENTITY)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        """Send bytes (or an ASCII str) in one write call."""
        if isinstance(data, str):
            data = data.encode("ascii")
        self.sock.sendall(data)

    def command(self, line):
        """Send one command line with CRLF and return its reply."""
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")
        return self.read_reply()

    def _receive(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError):
            chunk = b""
        if not chunk:
            raise ConnectionClosed(
                f"connection closed; unread bytes {self.buffer!r}")
        self.buffer += chunk

    def read_line(self):
        """Return the next line with its CRLF."""
        while b"\r\n" not in self.buffer:
            self._receive()
        end = self.buffer.index(b"\r\n") + 2
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def read_reply(self):
        """Return one whole reply, every line of a multiline reply
        included, as the bytes received."""
        reply = b""
        while True:
            line = self.read_line()
            reply += line
            # The last line of a reply has a space (or nothing) after the
            # code; the others have a hyphen (RFC 5321, section 4.2.1).
            if line[3:4] != b"-":
                return reply

    def read_replies(self, count):
        return [self.read_reply() for _ in range(count)]

    def read_available(self, wait=0.5):
        """Return the buffered bytes plus whatever arrives within `wait`
        seconds, and consume them. Returns b"" on silence."""
        data, self.buffer = self.buffer, b""
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, ssl.SSLWantReadError):
            pass
        finally:
            self.sock.settimeout(self.timeout)
        return data

    def read_until_closed(self):
        """Return every byte received until the server closes the
        connection; fails the test if it stays open past the timeout."""
        data, self.buffer = self.buffer, b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout as error:
                raise AssertionError(
                    f"the server kept the connection open; received "
                    f"{data!r}") from error
            except (ConnectionResetError, ssl.SSLEOFError):
                return data
            if not chunk:
                return data
            data += chunk

    def starttls(self):
        """Run the TLS handshake on this connection after a 220 reply to
        STARTTLS. Bytes already buffered would have been sent in clear, so
        they fail the test."""
        if self.buffer:
            raise AssertionError(
                f"bytes after the STARTTLS reply: {self.buffer!r}")
        self.sock = client_tls_context().wrap_socket(
            self.sock, server_hostname=IDENTITY)

    def ehlo(self, name=CLIENT_NAME):
        return self.command(f"EHLO {name}")

    def secure(self, name=CLIENT_NAME):
        """EHLO, STARTTLS, handshake and EHLO again; returns the second
        EHLO reply."""
        self.ehlo(name)
        reply = self.command("STARTTLS")
        if reply != b"220 2.0.0 Ready to start TLS\r\n":
            raise AssertionError(f"STARTTLS failed: {reply!r}")
        self.starttls()
        return self.ehlo(name)

    def authenticate(self, user, password):
        """AUTH PLAIN with an initial response; fails the test unless the
        server replies 235."""
        reply = self.command(f"AUTH PLAIN {sasl_plain(user, password)}")
        if reply != b"235 2.7.0 Authentication successful\r\n":
            raise AssertionError(f"AUTH PLAIN failed: {reply!r}")

    def tls_version(self):
        return self.sock.version()

    def tls_cipher(self):
        """Return (name, protocol, secret bits) of the TLS connection."""
        return self.sock.cipher()


class SmtpTestCase(ServerTestCase):
    """A ServerTestCase whose server has the accounts in `users`
    ({name: password}, added before start) and that opens SmtpClient
    connections closed at the end of the test."""

    users = {"alice": "correct horse", "bob": "battery staple"}
    autostart = False

    def setUp(self):
        super().setUp()
        self.server.make_ports_distinct()
        for name, password in self.users.items():
            self.server.add_user(name, password)
        self.start_server()

    def start_server(self, attempts=3):
        """Start the server, on new ports when another process took one
        of its ports between free_port() and the bind."""
        for attempt in range(1, attempts + 1):
            try:
                self.server.start()
                return
            except RuntimeError as error:
                if attempt == attempts or "cannot listen" not in str(error):
                    raise
            self.server.pick_new_ports()

    def connect(self, listener="smtp", read_greeting=True):
        """Connect to a listener, with TLS first when its mode is
        "implicit", and read the greeting into client.greeting."""
        implicit = self.server.listeners[listener].tls == "implicit"
        client = SmtpClient(self.server.port(listener), implicit_tls=implicit)
        self.addCleanup(client.close)
        client.greeting = client.read_reply() if read_greeting else None
        return client


# What the server writes into a delivered message

MAILDIR_NAME = re.compile(
    r"(?P<seconds>\d+)\.M(?P<microseconds>\d+)P(?P<pid>\d+)Q(?P<counter>\d+)"
    r"\.mail\.test,S=(?P<size>\d+),W=(?P<wire_size>\d+)")

RFC5322_DATE = (r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
                r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                r"\d{4} \d{2}:\d{2}:\d{2} \+0000")


def received_pattern(protocol, helo=CLIENT_NAME, tls=None, user=None,
                     recipient=None):
    """Return a compiled regex for the Received: header the server writes,
    LF line endings, matched from the start of the header.

    protocol: the "with" keyword of RFC 3848 (SMTP, ESMTP, ESMTPS, ...).
    tls: (version, cipher, bits) as the client's ssl socket reports them;
        bits None matches any number, for clients that do not print it.
    user: the authenticated account, or None.
    recipient: the single recipient named in "for", or None.
    Groups: id (the message id) and date (an RFC 5322 date in UTC).
    """
    parts = [rf"Received: from {re.escape(helo)} \(\[127\.0\.0\.1\]\)\n",
             rf"\tby mail\.test \(Postern\) with {re.escape(protocol)}\n"]
    if tls is not None:
        version, cipher, bits = tls
        bits = r"\d+" if bits is None else str(int(bits))
        parts.append(rf"\t\(using {re.escape(version)} with cipher "
                     rf"{re.escape(cipher)} \({bits} bits\)\)\n")
    if user is not None:
        parts.append(rf"\t\(authenticated as {re.escape(user)}\)\n")
    parts.append(r"\tid (?P<id>[0-9a-f]+\.\d+)")
    if recipient is not None:
        parts.append(rf"\n\tfor <{re.escape(recipient)}>")
    parts.append(rf"; (?P<date>{RFC5322_DATE})\n")
    return re.compile("".join(parts))
