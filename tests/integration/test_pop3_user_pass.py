"""USER and PASS (RFC 1939, section 7): refused in clear when they need
TLS, accepted after STLS and over implicit TLS, and the [AUTH] response
code of RFC 3206 on failure."""

import poplib
import unittest

import pop3_support
from harness import read_bytes
from pop3_support import (AUTH_FAILED, PLAINTEXT_DISALLOWED, SEND_PASS,
                          maildrop_summary)


class ClearTextTests(pop3_support.Pop3TestCase):
    def test_user_refused(self):
        client = self.connect("pop3")
        self.assertEqual(client.command("USER alice"), PLAINTEXT_DISALLOWED)

    def test_pass_after_refused_user(self):
        client = self.connect("pop3")
        client.command("USER alice")
        self.assertEqual(client.command("PASS correct horse"),
                         b"-ERR Send USER first\r\n")

    def test_refusal_logs_no_password(self):
        client = self.connect("pop3")
        client.command("USER alice")
        client.command("PASS correct horse")
        client.command("QUIT")
        client.read_until_closed()
        self.assertNotIn("correct horse", self.server.log_text())

    def test_poplib_user_refused(self):
        pop = self.poplib_connect("pop3", stls=False)
        with self.assertRaises(poplib.error_proto) as raised:
            pop.user("alice")
        self.assertEqual(raised.exception.args[0],
                         PLAINTEXT_DISALLOWED.rstrip(b"\r\n"))

    def test_login_after_refusal_and_stls(self):
        client = self.connect("pop3")
        self.assertEqual(client.command("USER alice"), PLAINTEXT_DISALLOWED)
        client.stls()
        self.assertEqual(client.login("alice", "correct horse"),
                         maildrop_summary(0, 0))


class EncryptedTests(pop3_support.Pop3TestCase):
    def test_poplib_after_stls(self):
        pop = self.poplib_connect("pop3")
        self.assertEqual(pop.user("alice"), SEND_PASS.rstrip(b"\r\n"))
        self.assertEqual(pop.pass_("correct horse"),
                         maildrop_summary(0, 0).rstrip(b"\r\n"))
        self.assertEqual(pop.stat(), (0, 0))
        self.assertEqual(
            pop.quit(),
            b"+OK Postern POP3 server signing off (0 messages left)")

    def test_poplib_implicit_tls(self):
        pop = self.poplib_connect("pop3s")
        pop.user("bob")
        self.assertEqual(pop.pass_("battery staple"),
                         maildrop_summary(0, 0).rstrip(b"\r\n"))

    def test_summary_counts_messages(self):
        first = self.deliver("alice", pop3_support.simple_message("one"))
        second = self.deliver("alice", pop3_support.simple_message("two"))
        octets = sum(len(pop3_support.wire_form(read_bytes(path)))
                     for path in (first, second))
        client = self.connect("pop3s")
        self.assertEqual(client.login("alice", "correct horse"),
                         maildrop_summary(2, octets))

    def test_wrong_password(self):
        client = self.connect_encrypted("pop3")
        self.assertEqual(client.command("USER alice"), SEND_PASS)
        self.assertEqual(client.command("PASS wrong horse"), AUTH_FAILED)

    def test_unknown_user_fails_like_wrong_password(self):
        client = self.connect("pop3s")
        # USER must not reveal whether the account exists.
        self.assertEqual(client.command("USER nobody"), SEND_PASS)
        self.assertEqual(client.command("PASS correct horse"), AUTH_FAILED)

    def test_poplib_wrong_password(self):
        pop = self.poplib_connect("pop3s")
        pop.user("alice")
        with self.assertRaises(poplib.error_proto) as raised:
            pop.pass_("wrong horse")
        self.assertEqual(raised.exception.args[0],
                         AUTH_FAILED.rstrip(b"\r\n"))

    def test_login_after_failure(self):
        client = self.connect("pop3s")
        self.assertEqual(client.login("alice", "wrong horse"), AUTH_FAILED)
        self.assertEqual(client.login("alice", "correct horse"),
                         maildrop_summary(0, 0))

    def test_user_name_case_insensitive(self):
        client = self.connect("pop3s")
        self.assertEqual(client.login("ALICE", "correct horse"),
                         maildrop_summary(0, 0))
        self.assertEqual(client.command("QUIT"),
                         b"+OK Postern POP3 server signing off "
                         b"(0 messages left)\r\n")

    def test_password_with_spaces(self):
        # The password is the rest of the line, spaces included.
        client = self.connect("pop3s")
        self.assertEqual(client.login("alice", "correct  horse"),
                         AUTH_FAILED)
        self.assertEqual(client.login("alice", "correct horse "),
                         AUTH_FAILED)
        self.assertEqual(client.login("alice", "correct horse"),
                         maildrop_summary(0, 0))

    def test_pass_without_user(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("PASS correct horse"),
                         b"-ERR Send USER first\r\n")

    def test_user_without_name(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("USER"),
                         pop3_support.SYNTAX_ERROR)

    def test_too_many_failures_close(self):
        client = self.connect("pop3s")
        for attempt in range(4):
            self.assertEqual(client.login("alice", f"wrong {attempt}"),
                             AUTH_FAILED)
        self.assertEqual(client.command("USER alice"), SEND_PASS)
        client.send(b"PASS wrong again\r\n")
        self.assertEqual(client.read_until_closed(),
                         AUTH_FAILED +
                         b"-ERR Too many errors, closing connection\r\n")

    def test_failures_logged(self):
        client = self.connect("pop3s")
        client.login("alice", "wrong horse")
        client.login("alice", "correct horse")
        log = self.server.log_text()
        self.assertIn("event=auth mechanism=USER user=alice result=failed",
                      log)
        self.assertIn("event=auth mechanism=USER user=alice result=ok", log)
        self.assertNotIn("wrong horse", log)
        self.assertNotIn("correct horse", log)


class ClearTextAllowedTests(pop3_support.Pop3TestCase):
    server_options = {"pop3_auth": {"USER": "allow"}}

    def test_login_in_clear(self):
        client = self.connect("pop3")
        self.assertEqual(client.login("alice", "correct horse"),
                         maildrop_summary(0, 0))


class DeniedTests(pop3_support.Pop3TestCase):
    server_options = {"pop3_auth": {"USER": "deny"}}

    def test_user_refused_over_tls(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("USER alice"),
                         pop3_support.UNRECOGNIZED_MECHANISM)


if __name__ == "__main__":
    unittest.main()
