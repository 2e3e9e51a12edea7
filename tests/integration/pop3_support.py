"""Shared pieces of the POP3 integration tests: a client that returns the
exact bytes received, poplib connections, delivery by SMTP and the
expected greeting and CAPA responses. Standard library only."""

import hashlib
import os
import poplib
import re
import smtplib
import ssl
import time

import harness

SOCKET_TIMEOUT = harness.SOCKET_TIMEOUT

# The account that submits test mail by SMTP. It has no POP3 override, so
# its SMTP login works for every test class.
SENDER = "carol"
SENDER_PASSWORD = "sender secret"

# RFC 1939, section 7: the APOP timestamp is a msg-id, here
# <pid.counter.time@identity>.
GREETING = re.compile(
    rb"\+OK Postern POP3 server ready "
    rb"(?P<timestamp><(?P<pid>\d+)\.(?P<counter>\d+)\.(?P<time>\d+)"
    rb"@mail\.test>)\r\n")
GREETING_WITHOUT_APOP = b"+OK Postern POP3 server ready\r\n"
SIGN_OFF = b"+OK Postern POP3 server signing off\r\n"
BEGIN_TLS = b"+OK Begin TLS negotiation\r\n"
SEND_PASS = b"+OK Send PASS\r\n"

AUTH_FAILED = b"-ERR [AUTH] Authentication failed\r\n"
PLAINTEXT_DISALLOWED = (b"-ERR [AUTH] Plaintext authentication disallowed "
                        b"on unencrypted connections\r\n")
WRONG_STATE = b"-ERR Command not valid in this state\r\n"
SYNTAX_ERROR = b"-ERR Syntax error in arguments\r\n"
NO_SUCH_MESSAGE = b"-ERR No such message\r\n"
UNRECOGNIZED_MECHANISM = b"-ERR Unrecognized authentication type\r\n"
IN_USE = b"-ERR [IN-USE] Mailbox is locked by another session\r\n"

# The SASL lines of CAPA (RFC 2449) with the default [auth.pop3]. PLAIN
# and LOGIN are offered only over TLS, the challenge-response mechanisms
# always, and the SCRAM -PLUS variants only on TLS because they bind to it.
SASL_CLEAR = b"SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 NTLM\r\n"
SASL_ENCRYPTED = (b"SASL SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS "
                  b"SCRAM-SHA-1 CRAM-MD5 NTLM PLAIN LOGIN\r\n")

# CAPA with the default [auth.pop3]: USER only over TLS, APOP always.
CAPA_CLEAR = (b"+OK Capability list follows\r\n"
              b"TOP\r\n"
              b"UIDL\r\n"
              + SASL_CLEAR +
              b"STLS\r\n"
              b"RESP-CODES\r\n"
              b"AUTH-RESP-CODE\r\n"
              b"PIPELINING\r\n"
              b"IMPLEMENTATION Postern\r\n"
              b".\r\n")
CAPA_ENCRYPTED = (b"+OK Capability list follows\r\n"
                  b"TOP\r\n"
                  b"UIDL\r\n"
                  b"USER\r\n"
                  + SASL_ENCRYPTED +
                  b"RESP-CODES\r\n"
                  b"AUTH-RESP-CODE\r\n"
                  b"PIPELINING\r\n"
                  b"IMPLEMENTATION Postern\r\n"
                  b".\r\n")


def maildrop_summary(count, octets):
    """Return the +OK line that a successful login, RSET and LIST send:
    the number of messages and their total size."""
    noun = "message" if count == 1 else "messages"
    return f"+OK maildrop has {count} {noun} ({octets} octets)\r\n".encode(
        "ascii")


def apop_digest(timestamp, secret):
    """Return the APOP digest of RFC 1939, section 7: hex MD5 of the
    greeting's timestamp followed by the shared secret."""
    if isinstance(timestamp, bytes):
        timestamp = timestamp.decode("ascii")
    data = (timestamp + secret).encode("utf-8")
    return hashlib.md5(data).hexdigest()


def wire_form(stored):
    """Return a Maildir file's bytes as POP3 carries them before
    byte-stuffing: every LF as CRLF."""
    return stored.replace(b"\n", b"\r\n")


def stuffed(wire):
    """Return `wire` with a '.' added before every line that starts with
    one (RFC 1939, section 3)."""
    lines = wire.split(b"\r\n")
    return b"\r\n".join(b"." + line if line.startswith(b".") else line
                        for line in lines)


def unique_id_of(path):
    """Return the UIDL value the server derives from a Maildir file name:
    the name up to the first ',' or ':'."""
    return re.split(r"[,:]", os.path.basename(path))[0]


class Pop3Client(harness.SmtpClient):
    """A POP3 client over a plain socket that returns responses as the
    exact bytes received. It reuses the line reading, timeouts and TLS
    upgrade of harness.SmtpClient, but a reply here is one status line."""

    def read_reply(self):
        return self.read_line()

    def read_multiline(self):
        """Return the lines of a multi-line response up to and including
        the terminating ".\\r\\n", as received (byte-stuffed)."""
        data = b""
        while True:
            line = self.read_line()
            data += line
            if line == b".\r\n":
                return data

    def multiline(self, line):
        """Send a command that has a multi-line positive response and
        return the status line, followed by the rest of the response when
        the status is +OK."""
        status = self.command(line)
        if not status.startswith(b"+OK"):
            return status
        return status + self.read_multiline()

    def stls(self):
        """Send STLS, expect the positive response and run the TLS
        handshake on the same socket."""
        reply = self.command("STLS")
        if reply != BEGIN_TLS:
            raise AssertionError(f"STLS failed: {reply!r}")
        self.starttls()

    def login(self, user, password):
        """Send USER and PASS and return the response to PASS."""
        reply = self.command(f"USER {user}")
        if reply != SEND_PASS:
            raise AssertionError(f"USER failed: {reply!r}")
        return self.command(f"PASS {password}")

    def timestamp(self):
        """Return the APOP timestamp of the greeting as text."""
        match = GREETING.fullmatch(self.greeting)
        if match is None:
            raise AssertionError(f"no APOP timestamp in {self.greeting!r}")
        return match["timestamp"].decode("ascii")


class Pop3TestCase(harness.ServerTestCase):
    """A ServerTestCase whose server has the accounts in `users`
    ({name: password}) and the SMTP sender account, added before start.
    Subclasses that need POP3 override passwords or APOP secrets override
    add_users()."""

    users = {"alice": "correct horse", "bob": "battery staple"}
    autostart = False

    def setUp(self):
        super().setUp()
        self.server.add_user(SENDER, SENDER_PASSWORD)
        self.add_users()
        self.server.start()

    def add_users(self):
        for name, password in self.users.items():
            self.server.add_user(name, password)

    # Raw connections

    def connect(self, listener="pop3"):
        """Connect to a POP3 listener (TLS first on an implicit one) and
        read the greeting into client.greeting."""
        implicit = self.server.listeners[listener].tls == "implicit"
        client = Pop3Client(self.server.port(listener), implicit_tls=implicit)
        self.addCleanup(client.close)
        client.greeting = client.read_line()
        return client

    def connect_encrypted(self, listener="pop3"):
        """Connect, then STLS unless the listener uses implicit TLS."""
        client = self.connect(listener)
        if self.server.listeners[listener].tls != "implicit":
            client.stls()
        return client

    def open_session(self, user, password=None, listener="pop3"):
        """Log in by USER and PASS over TLS, check for +OK and return the
        client, which is then in the TRANSACTION state."""
        if password is None:
            password = self.users[user]
        client = self.connect_encrypted(listener)
        reply = client.login(user, password)
        if not reply.startswith(b"+OK maildrop has "):
            raise AssertionError(f"PASS failed: {reply!r}")
        return client

    def open_session_when_unlocked(self, user, password=None,
                                   timeout=SOCKET_TIMEOUT):
        """Log in like open_session, retrying while the maildrop is still
        locked by a session whose connection the client just closed. The
        server releases the lock only once it notices the close."""
        if password is None:
            password = self.users[user]
        deadline = time.monotonic() + timeout
        while True:
            client = self.connect_encrypted("pop3")
            reply = client.login(user, password)
            if reply.startswith(b"+OK maildrop has "):
                return client
            client.close()
            if reply != IN_USE or time.monotonic() > deadline:
                raise AssertionError(f"PASS failed: {reply!r}")
            time.sleep(0.05)

    # poplib

    def poplib_connect(self, listener="pop3", stls=True):
        """Return a poplib connection. On a STLS listener it upgrades to
        TLS unless `stls` is false."""
        port = self.server.port(listener)
        if self.server.listeners[listener].tls == "implicit":
            pop = poplib.POP3_SSL("127.0.0.1", port,
                                  context=harness.client_tls_context(),
                                  timeout=SOCKET_TIMEOUT)
        else:
            pop = poplib.POP3("127.0.0.1", port, timeout=SOCKET_TIMEOUT)
            if stls:
                pop.stls(context=harness.client_tls_context())
        self.addCleanup(close_quietly, pop)
        return pop

    def poplib_login(self, user, password=None, listener="pop3"):
        if password is None:
            password = self.users[user]
        pop = self.poplib_connect(listener)
        pop.user(user)
        pop.pass_(password)
        return pop

    # Mail

    def deliver(self, user, message):
        """Submit `message` (bytes with CRLF line endings) for `user` by
        SMTP with STARTTLS and AUTH, and return the path of the new Maildir
        file."""
        before = set(self.server.mail_files(user, "new"))
        with smtplib.SMTP("127.0.0.1", self.server.port("submission"),
                          local_hostname=harness.CLIENT_NAME,
                          timeout=SOCKET_TIMEOUT) as smtp:
            smtp.starttls(context=harness.client_tls_context())
            smtp.login(SENDER, SENDER_PASSWORD)
            smtp.sendmail(f"{SENDER}@mail.test", [f"{user}@mail.test"],
                          message)
        added = sorted(set(self.server.mail_files(user, "new")) - before)
        if len(added) != 1:
            raise AssertionError(f"expected one new file, found {added}")
        return added[0]

    def message_files(self, user):
        """Return the paths of every message of `user` in new/ and cur/."""
        return (self.server.mail_files(user, "new") +
                self.server.mail_files(user, "cur"))



def close_quietly(pop):
    """Close a poplib connection without QUIT."""
    try:
        pop.close()
    except (OSError, ssl.SSLError):
        pass


def simple_message(subject, body="Hello.\r\n"):
    return (f"From: Carol <carol@mail.test>\r\n"
            f"Subject: {subject}\r\n"
            f"\r\n"
            f"{body}").encode("utf-8")
