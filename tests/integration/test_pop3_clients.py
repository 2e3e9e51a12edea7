"""Retrieval with real POP3 clients: curl (pop3:// with STLS, pop3s://),
mpop (Maildir and mbox delivery), fetchmail (with and without --keep) and
`openssl s_client`. Each retrieved message must match the Maildir file
the server stored."""

import os
import re
import subprocess
import unittest

import harness
import pop3_support
from harness import read_bytes
from pop3_support import wire_form

CLIENT_TIMEOUT = 30

MESSAGE = pop3_support.simple_message(
    "client test",
    "Hello from the test.\r\n"
    ".a line that begins with a dot\r\n"
    "..and one with two\r\n"
    ".\r\n"
    "the last line\r\n")


class ClientTestCase(pop3_support.Pop3TestCase):
    def setUp(self):
        super().setUp()
        self.home = os.path.join(self.server.root, "home")
        os.makedirs(self.home)
        path = self.deliver("alice", MESSAGE)
        self.stored = read_bytes(path)
        self.unique_id = pop3_support.unique_id_of(path)

    def run_client(self, args, input=None):
        """Run a client with HOME in the test folder and return its exit
        status, standard output (bytes) and standard error (text)."""
        environment = dict(os.environ, HOME=self.home)
        result = subprocess.run(["timeout", str(CLIENT_TIMEOUT), *args],
                                input=input, capture_output=True,
                                env=environment, check=False,
                                timeout=CLIENT_TIMEOUT + 10)
        return (result.returncode, result.stdout,
                result.stderr.decode("utf-8", "replace"))

    def write_private(self, name, text):
        """Write a client configuration readable only by its owner, as
        mpop and fetchmail require of a file holding a password."""
        path = os.path.join(self.home, name)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(path, 0o600)
        return path

    def certificate(self):
        return os.path.join(self.server.data_dir, "tls", "cert.pem")

    def assert_maildrop_empty(self):
        self.assertEqual(self.message_files("alice"), [])

    def assert_maildrop_kept(self):
        files = self.message_files("alice")
        self.assertEqual([pop3_support.unique_id_of(path) for path in files],
                         [self.unique_id])


class CurlTests(ClientTestCase):
    def curl(self, url, *options, user="alice:correct horse"):
        """Run curl and return its exit status, output and verbose trace.
        Over TLS curl prints lines that count record bytes between the
        protocol lines, so the trace leaves them out."""
        status, output, trace = self.run_client([
            "curl", "--verbose", "--silent", "--show-error",
            "--max-time", "20", "--user", user, "--url", url, *options])
        trace = "".join(line for line in trace.splitlines(keepends=True)
                        if not re.match(r"[{}] \[\d+ bytes data\]", line))
        return status, output, trace

    def pop3_url(self, path=""):
        return f"pop3://127.0.0.1:{self.server.port('pop3')}/{path}"

    def pop3s_url(self, path=""):
        return f"pop3s://127.0.0.1:{self.server.port('pop3s')}/{path}"

    def test_stls_list(self):
        status, output, trace = self.curl(self.pop3_url(), "--ssl-reqd",
                                          "--insecure")
        self.assertEqual(status, 0, trace)
        self.assertEqual(output, f"1 {len(wire_form(self.stored))}\r\n"
                         .encode())
        self.assertIn("> STLS\r\n< +OK Begin TLS negotiation\r\n", trace)
        self.assertIn("< SASL SCRAM-SHA-256-PLUS SCRAM-SHA-256 "
                      "SCRAM-SHA-1-PLUS SCRAM-SHA-1 CRAM-MD5 NTLM PLAIN "
                      "LOGIN\r\n", trace)

    def test_stls_retrieve(self):
        status, output, trace = self.curl(self.pop3_url("1"), "--ssl-reqd",
                                          "--insecure")
        self.assertEqual(status, 0, trace)
        self.assertEqual(output, wire_form(self.stored))
        self.assert_maildrop_kept()

    def test_pop3s_list(self):
        status, output, trace = self.curl(self.pop3s_url(), "--insecure")
        self.assertEqual(status, 0, trace)
        self.assertEqual(output, f"1 {len(wire_form(self.stored))}\r\n"
                         .encode())

    def test_pop3s_retrieve(self):
        status, output, trace = self.curl(self.pop3s_url("1"), "--insecure")
        self.assertEqual(status, 0, trace)
        self.assertEqual(output, wire_form(self.stored))
        self.assertIn(f"< +OK {len(wire_form(self.stored))} octets\r\n",
                      trace)

    def test_pop3s_verified_certificate(self):
        port = self.server.port("pop3s")
        status, output, trace = self.curl(
            f"pop3s://mail.test:{port}/1", "--cacert", self.certificate(),
            "--resolve", f"mail.test:{port}:127.0.0.1")
        self.assertEqual(status, 0, trace)
        self.assertEqual(output, wire_form(self.stored))

    def test_sasl_login(self):
        status, output, trace = self.curl(self.pop3s_url("1"), "--insecure",
                                          "--login-options", "AUTH=LOGIN")
        self.assertEqual(status, 0, trace)
        self.assertIn("> AUTH LOGIN\r\n< + VXNlcm5hbWU6\r\n", trace)
        self.assertIn("< + UGFzc3dvcmQ6\r\n", trace)
        self.assertEqual(output, wire_form(self.stored))

    def test_uidl(self):
        status, output, trace = self.curl(self.pop3s_url(), "--insecure",
                                          "--request", "UIDL")
        self.assertEqual(status, 0, trace)
        self.assertEqual(output, f"1 {self.unique_id}\r\n".encode())

    def test_dele(self):
        status, output, trace = self.curl(self.pop3s_url("1"), "--insecure",
                                          "--request", "DELE", "--head")
        self.assertEqual(status, 0, trace)
        self.assertIn("< +OK Message 1 deleted\r\n", trace)
        self.assert_maildrop_empty()

    def test_wrong_password(self):
        status, _, trace = self.curl(self.pop3s_url(), "--insecure",
                                     user="alice:wrong horse")
        # curl(1), EXIT CODES: 67 means the login was not accepted.
        self.assertEqual(status, 67, trace)
        self.assertIn("< -ERR [AUTH] Authentication failed\r\n", trace)

    def test_clear_text_never_sends_password(self):
        # Without TLS only APOP and the challenge-response mechanisms are
        # offered. curl 7.88 prefers CRAM-MD5 among them, which proves the
        # password without sending it.
        status, output, trace = self.curl(self.pop3_url())
        self.assertEqual(status, 0, trace)
        self.assertIn("< SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 NTLM\r\n",
                      trace)
        self.assertIn("> AUTH CRAM-MD5\r\n", trace)
        self.assertEqual(output, f"1 {len(wire_form(self.stored))}\r\n"
                         .encode())
        self.assertNotIn("correct horse", trace)
        self.assertNotIn(harness.b64("correct horse"), trace)
        self.assertNotIn(harness.sasl_plain("alice", "correct horse"), trace)


class CurlApopOnlyInClearTests(ClientTestCase):
    """Every SASL mechanism that works in clear is denied, so curl can
    only try APOP, for which alice has no secret."""

    server_options = {"pop3_auth": {
        "SCRAM-SHA-256": "deny", "SCRAM-SHA-1": "deny", "CRAM-MD5": "deny",
        "NTLM": "deny"}}

    def test_clear_text_never_sends_password(self):
        url = f"pop3://127.0.0.1:{self.server.port('pop3')}/"
        status, _, trace = self.run_client([
            "curl", "--verbose", "--silent", "--show-error",
            "--max-time", "20", "--user", "alice:correct horse",
            "--url", url])
        self.assertEqual(status, 67, trace)
        self.assertIn("> APOP alice ", trace)
        self.assertIn("< -ERR [AUTH] Authentication failed\r\n", trace)
        self.assertNotIn("correct horse", trace)
        self.assertNotIn(harness.sasl_plain("alice", "correct horse"), trace)


class CurlApopTests(ClientTestCase):
    def add_users(self):
        self.server.add_user("alice", "correct horse", apop=True)

    def test_apop_in_clear(self):
        url = f"pop3://127.0.0.1:{self.server.port('pop3')}/1"
        status, output, trace = self.run_client([
            "curl", "--verbose", "--silent", "--show-error",
            "--max-time", "20", "--user", "alice:correct horse",
            "--login-options", "AUTH=+APOP", "--url", url])
        self.assertEqual(status, 0, trace)
        self.assertRegex(trace, r"> APOP alice [0-9a-f]{32}\r\n"
                                r"< \+OK maildrop has 1 message ")
        self.assertEqual(output, wire_form(self.stored))


class MpopTests(ClientTestCase):
    def mpop(self, listener, delivery, *settings):
        """Run mpop once for alice with `delivery` and extra account
        settings, and return its exit status and output."""
        starttls = "off" if listener == "pop3s" else "on"
        lines = [
            "defaults",
            "tls on",
            f"tls_starttls {starttls}",
            "received_header off",
            f"uidls_file {self.home}/mpop_uidls",
            "account default",
            "host 127.0.0.1",
            f"port {self.server.port(listener)}",
            "user alice",
            "password correct horse",
            f"delivery {delivery}",
            *settings,
        ]
        config = self.write_private("mpoprc", "\n".join(lines) + "\n")
        status, output, errors = self.run_client(
            ["mpop", "--debug", "-C", config])
        return status, output.decode("utf-8", "replace") + errors

    def make_maildir(self):
        maildir = os.path.join(self.home, "Maildir")
        for folder in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(maildir, folder))
        return maildir

    def test_stls_maildir_delivery(self):
        maildir = self.make_maildir()
        status, output = self.mpop("pop3", f"maildir {maildir}",
                                   "tls_certcheck off", "keep off")
        self.assertEqual(status, 0, output)
        self.assertIn("--> STLS", output)
        files = harness.list_files(os.path.join(maildir, "new"))
        self.assertEqual(len(files), 1, output)
        self.assertEqual(read_bytes(files[0]), self.stored)
        self.assert_maildrop_empty()

    def test_pop3s_mbox_delivery(self):
        mbox = os.path.join(self.home, "inbox.mbox")
        status, output = self.mpop("pop3s", f"mbox {mbox}",
                                   "tls_certcheck off", "keep on")
        self.assertEqual(status, 0, output)
        contents = read_bytes(mbox)
        self.assertTrue(contents.startswith(b"From "), contents[:100])
        first_line_end = contents.index(b"\n") + 1
        self.assertEqual(contents[first_line_end:], self.stored + b"\n")
        self.assert_maildrop_kept()

    def test_trust_file(self):
        maildir = self.make_maildir()
        status, output = self.mpop(
            "pop3s", f"maildir {maildir}",
            f"tls_trust_file {self.certificate()}",
            "tls_host_override mail.test", "keep on")
        self.assertEqual(status, 0, output)
        files = harness.list_files(os.path.join(maildir, "new"))
        self.assertEqual([read_bytes(path) for path in files], [self.stored])

    def test_auth_user(self):
        maildir = self.make_maildir()
        status, output = self.mpop("pop3", f"maildir {maildir}",
                                   "tls_certcheck off", "auth user",
                                   "keep off")
        self.assertEqual(status, 0, output)
        self.assertIn("--> USER alice", output)
        self.assert_maildrop_empty()

    def test_wrong_password(self):
        maildir = self.make_maildir()
        status, output = self.mpop("pop3s", f"maildir {maildir}",
                                   "tls_certcheck off",
                                   "password wrong horse")
        self.assertNotEqual(status, 0, output)
        self.assertIn("<-- -ERR [AUTH] Authentication failed", output)
        self.assert_maildrop_kept()


class FetchmailTests(ClientTestCase):
    def fetchmail(self, listener, *options):
        """Run fetchmail once for alice with an MDA that appends to a
        file, and return its exit status, output and the file's bytes
        (None when nothing was delivered)."""
        out = os.path.join(self.home, "delivered")
        tls = ("ssl" if listener == "pop3s" else "sslproto 'tls1.2+'")
        config = self.write_private("fetchmailrc", (
            "set no bouncemail\n"
            "set invisible\n"
            f"poll 127.0.0.1 protocol pop3 "
            f"port {self.server.port(listener)} auth password\n"
            '  user "alice" there with password "correct horse" '
            'is "root" here\n'
            f"  {tls}\n"
            "  no rewrite\n"
            f"  mda \"cat >> {out}\"\n" +
            "".join(f"  {option}\n" for option in options)))
        status, output, errors = self.run_client([
            "fetchmail", "--nodetach", "--nosyslog", "--verbose",
            "-f", config, "--idfile", os.path.join(self.home, "fetchids"),
            "--pidfile", os.path.join(self.home, "fetchmail.pid")])
        delivered = read_bytes(out) if os.path.exists(out) else None
        return status, output.decode("utf-8", "replace") + errors, delivered

    def test_stls_without_keep_deletes(self):
        status, output, delivered = self.fetchmail(
            "pop3", "no sslcertck", "no keep")
        self.assertEqual(status, 0, output)
        self.assertIn("POP3> STLS", output)
        self.assertIn("POP3> DELE 1", output)
        self.assertEqual(delivered, self.stored)
        self.assert_maildrop_empty()

    def test_pop3s_keep(self):
        status, output, delivered = self.fetchmail(
            "pop3s", "no sslcertck", "keep")
        self.assertEqual(status, 0, output)
        self.assertNotIn("POP3> DELE", output)
        self.assertEqual(delivered, self.stored)
        self.assert_maildrop_kept()

    def test_verified_certificate(self):
        status, output, delivered = self.fetchmail(
            "pop3s", "sslcertck",
            f"sslcertfile \"{self.certificate()}\"",
            "sslcommonname \"mail.test\"", "no keep")
        self.assertEqual(status, 0, output)
        self.assertEqual(delivered, self.stored)

    def test_wrong_password(self):
        self.server.cli("user", "passwd", "alice", "--password-stdin",
                        input="another password\n")
        status, output, delivered = self.fetchmail(
            "pop3s", "no sslcertck", "no keep")
        # fetchmail(1), EXIT CODES: 3 means the authentication failed.
        self.assertEqual(status, 3, output)
        self.assertIn("POP3< -ERR [AUTH] Authentication failed", output)
        self.assertIsNone(delivered)
        self.assert_maildrop_kept()


class OpensslTests(ClientTestCase):
    COMMANDS = b"CAPA\nUSER alice\nPASS correct horse\nSTAT\nQUIT\n"

    def s_client(self, *options):
        return self.run_client(
            ["openssl", "s_client", "-quiet", "-crlf", "-ign_eof",
             "-servername", "mail.test", *options], input=self.COMMANDS)

    def expected_session(self):
        size = len(wire_form(self.stored))
        return (pop3_support.CAPA_ENCRYPTED +
                pop3_support.SEND_PASS +
                pop3_support.maildrop_summary(1, size) +
                f"+OK 1 {size}\r\n".encode() +
                b"+OK Postern POP3 server signing off (1 message left)\r\n")

    def test_starttls(self):
        status, output, errors = self.s_client(
            "-starttls", "pop3",
            "-connect", f"127.0.0.1:{self.server.port('pop3')}")
        self.assertEqual(status, 0, errors)
        # s_client reads the greeting itself before sending STLS.
        self.assertEqual(output, self.expected_session())

    def test_implicit_tls(self):
        status, output, errors = self.s_client(
            "-connect", f"127.0.0.1:{self.server.port('pop3s')}")
        self.assertEqual(status, 0, errors)
        greeting, rest = output.split(b"\r\n", 1)
        self.assertRegex(greeting + b"\r\n", pop3_support.GREETING)
        self.assertEqual(rest, self.expected_session())

    def test_verified_certificate(self):
        status, output, errors = self.s_client(
            "-connect", f"127.0.0.1:{self.server.port('pop3s')}",
            "-CAfile", self.certificate(), "-verify_return_error",
            "-verify_hostname", "mail.test")
        self.assertEqual(status, 0, errors)
        self.assertIn(b"+OK Postern POP3 server signing off", output)
        self.assertNotRegex(errors, re.compile(r"verify error"))


if __name__ == "__main__":
    unittest.main()
