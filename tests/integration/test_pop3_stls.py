"""STLS (RFC 2595, section 4): allowed once and only in the AUTHORIZATION
state, no argument, and commands sent in clear behind it in the same
packet are dropped unread (the STARTTLS injection of CVE-2011-0411)."""

import unittest

import harness
import pop3_support
from pop3_support import (BEGIN_TLS, CAPA_ENCRYPTED, SEND_PASS, SYNTAX_ERROR,
                          WRONG_STATE, maildrop_summary)

TLS_ACTIVE = b"-ERR Command not permitted when TLS active\r\n"
STLS_UNAVAILABLE = b"-ERR STLS not available\r\n"


class StateTests(pop3_support.Pop3TestCase):
    def test_twice(self):
        client = self.connect("pop3")
        client.stls()
        self.assertEqual(client.command("STLS"), TLS_ACTIVE)
        self.assertEqual(client.multiline("CAPA"), CAPA_ENCRYPTED)

    def test_implicit_tls_listener(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("STLS"), TLS_ACTIVE)

    def test_after_login(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("STLS"), WRONG_STATE)
        self.assertEqual(client.command("STAT"), b"+OK 0 0\r\n")

    def test_with_argument(self):
        client = self.connect("pop3")
        self.assertEqual(client.command("STLS now"), SYNTAX_ERROR)
        # The connection is still in clear and STLS still works.
        self.assertEqual(client.multiline("CAPA"),
                         pop3_support.CAPA_CLEAR)
        client.stls()
        self.assertEqual(client.multiline("CAPA"), CAPA_ENCRYPTED)

    def test_lower_case(self):
        client = self.connect("pop3")
        self.assertEqual(client.command("stls"), BEGIN_TLS)
        client.starttls()
        self.assertEqual(client.login("alice", "correct horse"),
                         maildrop_summary(0, 0))

    def test_poplib(self):
        pop = self.poplib_connect("pop3", stls=False)
        self.assertEqual(pop.stls(context=harness.client_tls_context()),
                         BEGIN_TLS.rstrip(b"\r\n"))
        self.assertIn("SASL", pop.capa())

    def test_failed_handshake_closes(self):
        client = self.connect("pop3")
        self.assertEqual(client.command("STLS"), BEGIN_TLS)
        client.send(b"this is not a TLS ClientHello\r\n")
        client.read_until_closed()
        # The server goes on serving other connections.
        other = self.connect("pop3")
        self.assertEqual(other.multiline("CAPA"), pop3_support.CAPA_CLEAR)

    def test_tls_logged(self):
        client = self.connect("pop3")
        client.stls()
        client.command("QUIT")
        client.read_until_closed()
        self.assertRegex(self.server.log_text(),
                         r"event=tls version=TLSv1\.[23] cipher=\S+")


class InjectionTests(pop3_support.Pop3TestCase):
    """Bytes sent in clear behind STLS could come from an attacker in the
    path, so the server must discard them unread."""

    def inject(self, injected):
        client = self.connect("pop3")
        client.send(b"STLS\r\n" + injected)
        self.assertEqual(client.read_line(), BEGIN_TLS)
        # Had the server run the injected commands before the handshake,
        # their responses would arrive here, in clear.
        self.assertEqual(client.read_available(0.5), b"")
        client.starttls()
        return client

    def test_capa_not_executed(self):
        client = self.inject(b"CAPA\r\n")
        # The first response after the handshake must be the response to
        # this command, not to the injected CAPA.
        self.assertEqual(client.command("USER alice"), SEND_PASS)
        self.assertEqual(client.read_available(0.5), b"")

    def test_capa_then_capa(self):
        client = self.inject(b"CAPA\r\n")
        self.assertEqual(client.multiline("CAPA"), CAPA_ENCRYPTED)
        self.assertEqual(client.read_available(0.5), b"")

    def test_user_not_executed(self):
        client = self.inject(b"USER alice\r\n")
        self.assertEqual(client.command("PASS correct horse"),
                         b"-ERR Send USER first\r\n")

    def test_login_not_executed(self):
        client = self.inject(b"USER alice\r\nPASS correct horse\r\n")
        self.assertEqual(client.command("STAT"), WRONG_STATE)
        self.assertEqual(client.read_available(0.5), b"")

    def test_auth_not_executed(self):
        plain = harness.sasl_plain("alice", "correct horse")
        client = self.inject(f"AUTH PLAIN {plain}\r\n".encode("ascii"))
        self.assertEqual(client.command("STAT"), WRONG_STATE)

    def test_quit_not_executed(self):
        client = self.inject(b"QUIT\r\n")
        self.assertEqual(client.login("alice", "correct horse"),
                         maildrop_summary(0, 0))


class ClearUserTests(pop3_support.Pop3TestCase):
    """USER allowed in clear, so that a USER can precede STLS."""

    server_options = {"pop3_auth": {"USER": "allow"}}

    def test_login_in_clear_then_stls(self):
        client = self.connect("pop3")
        self.assertEqual(client.login("alice", "correct horse"),
                         maildrop_summary(0, 0))
        self.assertEqual(client.command("STLS"), WRONG_STATE)

    def test_user_before_stls_forgotten(self):
        # What the client sent in clear may have been injected, so the
        # server keeps nothing of it once TLS is up, as RFC 3207, section
        # 4.2, requires of SMTP servers after STARTTLS.
        client = self.connect("pop3")
        self.assertEqual(client.command("USER alice"), SEND_PASS)
        client.stls()
        self.assertEqual(client.command("PASS correct horse"),
                         b"-ERR Send USER first\r\n")


class NoTlsListenerTests(pop3_support.Pop3TestCase):
    server_options = {"extra_listeners": [
        {"name": "pop3-clear", "protocol": "pop3", "tls": "none"}]}

    def test_stls_not_available(self):
        client = self.connect("pop3-clear")
        self.assertEqual(client.command("STLS"), STLS_UNAVAILABLE)

    def test_capa_without_stls(self):
        client = self.connect("pop3-clear")
        self.assertEqual(client.multiline("CAPA"),
                         b"+OK Capability list follows\r\n"
                         b"TOP\r\n"
                         b"UIDL\r\n"
                         + pop3_support.SASL_CLEAR +
                         b"RESP-CODES\r\n"
                         b"AUTH-RESP-CODE\r\n"
                         b"PIPELINING\r\n"
                         b"IMPLEMENTATION Postern\r\n"
                         b".\r\n")

    def test_user_refused(self):
        client = self.connect("pop3-clear")
        self.assertEqual(client.command("USER alice"),
                         pop3_support.PLAINTEXT_DISALLOWED)


if __name__ == "__main__":
    unittest.main()
