"""AUTH over POP3 (RFC 5034) with PLAIN (RFC 4616) and LOGIN: challenges,
initial responses, cancellation, the mechanism list and refusals.
test_mech_pop3.py covers the challenge-response mechanisms."""

import unittest

import pop3_support
from harness import b64, sasl_plain
from pop3_support import (AUTH_FAILED, UNRECOGNIZED_MECHANISM, WRONG_STATE,
                          maildrop_summary)

LOGGED_IN = maildrop_summary(0, 0)
EMPTY_CHALLENGE = b"+ \r\n"
USERNAME_CHALLENGE = b"+ VXNlcm5hbWU6\r\n"   # "Username:"
PASSWORD_CHALLENGE = b"+ UGFzc3dvcmQ6\r\n"   # "Password:"
CANCELLED = b"-ERR Authentication cancelled\r\n"
BAD_BASE64 = b"-ERR Cannot decode base64 response\r\n"
MALFORMED = b"-ERR Malformed authentication message\r\n"
NEEDS_TLS = (b"-ERR [AUTH] Authentication mechanism requires an encrypted "
             b"connection\r\n")

# Shorter than the 255 octets RFC 4616 requires servers to accept in a
# PLAIN password, but long enough that the base64 message exceeds a POP3
# command line.
LONG_PASSWORD = "p" * 200

# The AUTH lists (RFC 5034, section 4) with the default [auth.pop3]: PLAIN
# and LOGIN only over TLS, the challenge-response mechanisms always, and
# the SCRAM -PLUS variants only on TLS because they bind to it.
MECHANISMS_CLEAR = (b"+OK Authentication mechanisms follow\r\n"
                    b"SCRAM-SHA-256\r\n"
                    b"SCRAM-SHA-1\r\n"
                    b"CRAM-MD5\r\n"
                    b"NTLM\r\n"
                    b".\r\n")
MECHANISMS_ENCRYPTED = (b"+OK Authentication mechanisms follow\r\n"
                        b"SCRAM-SHA-256-PLUS\r\n"
                        b"SCRAM-SHA-256\r\n"
                        b"SCRAM-SHA-1-PLUS\r\n"
                        b"SCRAM-SHA-1\r\n"
                        b"CRAM-MD5\r\n"
                        b"NTLM\r\n"
                        b"PLAIN\r\n"
                        b"LOGIN\r\n"
                        b".\r\n")

# Every SASL mechanism the server has.
SASL_MECHANISMS = ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
                   "SCRAM-SHA-1", "CRAM-MD5", "NTLM", "PLAIN", "LOGIN")


class PlainTests(pop3_support.Pop3TestCase):
    users = dict(pop3_support.Pop3TestCase.users, dora=LONG_PASSWORD)

    def test_challenge_then_response(self):
        client = self.connect_encrypted("pop3")
        self.assertEqual(client.command("AUTH PLAIN"), EMPTY_CHALLENGE)
        self.assertEqual(client.command(sasl_plain("alice", "correct horse")),
                         LOGGED_IN)
        self.assertEqual(client.command("STAT"), b"+OK 0 0\r\n")

    def test_initial_response(self):
        client = self.connect_encrypted("pop3")
        plain = sasl_plain("alice", "correct horse")
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"), LOGGED_IN)

    def test_initial_response_over_implicit_tls(self):
        client = self.connect("pop3s")
        plain = sasl_plain("bob", "battery staple")
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"), LOGGED_IN)

    def test_lower_case_mechanism(self):
        client = self.connect("pop3s")
        plain = sasl_plain("alice", "correct horse")
        self.assertEqual(client.command(f"auth plain {plain}"), LOGGED_IN)

    def test_authzid_same_user(self):
        client = self.connect("pop3s")
        plain = sasl_plain("alice", "correct horse", authzid="alice")
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"), LOGGED_IN)

    def test_authzid_other_user(self):
        client = self.connect("pop3s")
        plain = sasl_plain("alice", "correct horse", authzid="bob")
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"), AUTH_FAILED)

    def test_wrong_password(self):
        client = self.connect("pop3s")
        plain = sasl_plain("alice", "wrong horse")
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"), AUTH_FAILED)
        # The session is back in AUTHORIZATION and may try again.
        plain = sasl_plain("alice", "correct horse")
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"), LOGGED_IN)

    def test_cancel(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("AUTH PLAIN"), EMPTY_CHALLENGE)
        self.assertEqual(client.command("*"), CANCELLED)
        self.assertEqual(client.login("alice", "correct horse"), LOGGED_IN)

    def test_bad_base64(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("AUTH PLAIN"), EMPTY_CHALLENGE)
        self.assertEqual(client.command("not base64!"), BAD_BASE64)
        self.assertEqual(client.command("AUTH PLAIN !!!"), BAD_BASE64)

    def test_empty_initial_response(self):
        # "=" is an empty initial response (RFC 5034, section 4), which
        # is not a valid PLAIN message.
        client = self.connect("pop3s")
        self.assertEqual(client.command("AUTH PLAIN ="), MALFORMED)

    def test_missing_separator(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("AUTH PLAIN " + b64("alice")),
                         MALFORMED)

    def test_response_longer_than_command_line(self):
        # A SASL response may exceed the 255-octet command line. RFC 4954,
        # section 4, makes SMTP servers accept the longest response their
        # mechanisms produce, and the POP3 server follows the same rule.
        client = self.connect("pop3s")
        plain = sasl_plain("dora", LONG_PASSWORD)
        self.assertGreater(len(plain), 255)
        self.assertEqual(client.command("AUTH PLAIN"), EMPTY_CHALLENGE)
        self.assertEqual(client.command(plain), LOGGED_IN)

    def test_logged_without_secret(self):
        client = self.connect("pop3s")
        plain = sasl_plain("alice", "correct horse")
        client.command(f"AUTH PLAIN {plain}")
        log = self.server.log_text()
        self.assertIn("event=auth mechanism=PLAIN user=alice result=ok", log)
        self.assertNotIn(plain, log)
        self.assertNotIn("correct horse", log)


class LoginTests(pop3_support.Pop3TestCase):
    def test_two_challenges(self):
        client = self.connect_encrypted("pop3")
        self.assertEqual(client.command("AUTH LOGIN"), USERNAME_CHALLENGE)
        self.assertEqual(client.command(b64("alice")), PASSWORD_CHALLENGE)
        self.assertEqual(client.command(b64("correct horse")), LOGGED_IN)

    def test_initial_response_is_user_name(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("AUTH LOGIN " + b64("bob")),
                         PASSWORD_CHALLENGE)
        self.assertEqual(client.command(b64("battery staple")), LOGGED_IN)

    def test_wrong_password(self):
        client = self.connect("pop3s")
        client.command("AUTH LOGIN")
        client.command(b64("alice"))
        self.assertEqual(client.command(b64("wrong horse")), AUTH_FAILED)

    def test_cancel_at_user_name(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("AUTH LOGIN"), USERNAME_CHALLENGE)
        self.assertEqual(client.command("*"), CANCELLED)

    def test_cancel_at_password(self):
        client = self.connect("pop3s")
        client.command("AUTH LOGIN")
        self.assertEqual(client.command(b64("alice")), PASSWORD_CHALLENGE)
        self.assertEqual(client.command("*"), CANCELLED)
        self.assertEqual(client.command("STAT"), WRONG_STATE)

    def test_logged(self):
        client = self.connect("pop3s")
        client.command("AUTH LOGIN " + b64("alice"))
        client.command(b64("wrong horse"))
        self.assertIn("event=auth mechanism=LOGIN user=alice result=failed",
                      self.server.log_text())


class MechanismTests(pop3_support.Pop3TestCase):
    def test_list_before_tls(self):
        client = self.connect("pop3")
        self.assertEqual(client.multiline("AUTH"), MECHANISMS_CLEAR)

    def test_list_after_stls(self):
        client = self.connect("pop3")
        client.stls()
        self.assertEqual(client.multiline("AUTH"), MECHANISMS_ENCRYPTED)

    def test_list_implicit_tls(self):
        client = self.connect("pop3s")
        self.assertEqual(client.multiline("AUTH"), MECHANISMS_ENCRYPTED)

    def test_needs_tls(self):
        client = self.connect("pop3")
        plain = sasl_plain("alice", "correct horse")
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"), NEEDS_TLS)
        self.assertEqual(client.command("AUTH LOGIN"), NEEDS_TLS)

    def test_unknown_mechanism(self):
        client = self.connect("pop3s")
        for name in ("XYZ", "DIGEST-MD5", "GSSAPI"):
            with self.subTest(mechanism=name):
                self.assertEqual(client.command(f"AUTH {name}"),
                                 UNRECOGNIZED_MECHANISM)

    def test_after_login(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("AUTH PLAIN"), WRONG_STATE)
        self.assertEqual(client.command("AUTH"), WRONG_STATE)


class TlsOnlyMechanismTests(pop3_support.Pop3TestCase):
    server_options = {"pop3_auth": {name: "tls" for name in SASL_MECHANISMS}}

    def test_list_before_tls_empty(self):
        client = self.connect("pop3")
        self.assertEqual(client.multiline("AUTH"),
                         b"+OK Authentication mechanisms follow\r\n.\r\n")

    def test_list_after_stls(self):
        client = self.connect("pop3")
        client.stls()
        self.assertEqual(client.multiline("AUTH"), MECHANISMS_ENCRYPTED)


class DeniedMechanismTests(pop3_support.Pop3TestCase):
    server_options = {"pop3_auth": {
        "LOGIN": "deny", "CRAM-MD5": "deny", "SCRAM-SHA-256": "deny",
        "NTLM": "deny"}}

    def test_denied_unrecognized(self):
        client = self.connect("pop3s")
        # A denied mechanism gets the same reply as if the server had never heard
        # of it, before any challenge is sent.
        for name in ("LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "NTLM"):
            with self.subTest(mechanism=name):
                self.assertEqual(client.command(f"AUTH {name}"),
                                 UNRECOGNIZED_MECHANISM)
        self.assertEqual(client.multiline("AUTH"),
                         b"+OK Authentication mechanisms follow\r\n"
                         b"SCRAM-SHA-256-PLUS\r\n"
                         b"SCRAM-SHA-1-PLUS\r\n"
                         b"SCRAM-SHA-1\r\n"
                         b"PLAIN\r\n"
                         b".\r\n")


if __name__ == "__main__":
    unittest.main()
