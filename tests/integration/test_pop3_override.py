"""The POP3 override password and APOP secrets. With an override,
USER/PASS and AUTH PLAIN and LOGIN over POP3 accept only the override.
APOP tries the account's stored plaintext (kept by `user add --apop`),
then the override. SMTP AUTH ignores the override."""

import poplib
import unittest

import harness
import pop3_support
from pop3_support import AUTH_FAILED, apop_digest, maildrop_summary

SMTP_AUTH_OK = b"235 2.7.0 Authentication successful\r\n"
SMTP_AUTH_INVALID = b"535 5.7.8 Authentication credentials invalid\r\n"

# name: (password, POP3 override or None, --apop)
ACCOUNTS = {
    "dave": ("dave password", "dave pop3 secret", False),
    "erin": ("erin password", None, True),
    "frank": ("frank password", None, False),
    "grace": ("grace password", "grace pop3 secret", True),
}

LOGGED_IN = maildrop_summary(0, 0)


class OverrideTestCase(pop3_support.Pop3TestCase):
    def add_users(self):
        super().add_users()
        for name, (password, override, apop) in ACCOUNTS.items():
            self.server.add_user(name, password, override=override,
                                 apop=apop)

    def apop(self, user, secret, listener="pop3"):
        """Log in by APOP on a new connection and return the response.
        QUIT follows, so that the maildrop is free for the next login."""
        client = self.connect(listener)
        digest = apop_digest(client.timestamp(), secret)
        reply = client.command(f"APOP {user} {digest}")
        client.command("QUIT")
        return reply


class UserPassTests(OverrideTestCase):
    def test_normal_password_rejected(self):
        client = self.connect("pop3s")
        self.assertEqual(client.login("dave", "dave password"), AUTH_FAILED)

    def test_override_accepted(self):
        client = self.connect("pop3s")
        self.assertEqual(client.login("dave", "dave pop3 secret"),
                         LOGGED_IN)

    def test_override_after_stls(self):
        pop = self.poplib_connect("pop3")
        pop.user("dave")
        self.assertEqual(pop.pass_("dave pop3 secret"),
                         LOGGED_IN.rstrip(b"\r\n"))

    def test_account_without_override_unchanged(self):
        client = self.connect("pop3s")
        self.assertEqual(client.login("erin", "erin password"), LOGGED_IN)

    def test_override_of_other_account_rejected(self):
        client = self.connect("pop3s")
        self.assertEqual(client.login("frank", "dave pop3 secret"),
                         AUTH_FAILED)


class SaslTests(OverrideTestCase):
    def test_plain_normal_password_rejected(self):
        client = self.connect("pop3s")
        plain = harness.sasl_plain("dave", "dave password")
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"), AUTH_FAILED)

    def test_plain_override_accepted(self):
        client = self.connect("pop3s")
        plain = harness.sasl_plain("dave", "dave pop3 secret")
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"), LOGGED_IN)

    def test_login_normal_password_rejected(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("AUTH LOGIN " + harness.b64("dave")),
                         b"+ UGFzc3dvcmQ6\r\n")
        self.assertEqual(client.command(harness.b64("dave password")),
                         AUTH_FAILED)

    def test_login_override_accepted(self):
        client = self.connect("pop3s")
        self.assertEqual(client.command("AUTH LOGIN " + harness.b64("dave")),
                         b"+ UGFzc3dvcmQ6\r\n")
        self.assertEqual(client.command(harness.b64("dave pop3 secret")),
                         LOGGED_IN)


class ApopTests(OverrideTestCase):
    def test_override_without_stored_plaintext(self):
        self.assertEqual(self.apop("dave", "dave pop3 secret"), LOGGED_IN)

    def test_normal_password_without_stored_plaintext(self):
        # Only a hash of the normal password is kept, so APOP cannot
        # check it.
        self.assertEqual(self.apop("dave", "dave password"), AUTH_FAILED)

    def test_stored_plaintext(self):
        self.assertEqual(self.apop("erin", "erin password"), LOGGED_IN)

    def test_stored_plaintext_over_implicit_tls(self):
        self.assertEqual(self.apop("erin", "erin password", "pop3s"),
                         LOGGED_IN)

    def test_neither_secret_fails_like_wrong_digest(self):
        self.assertEqual(self.apop("frank", "frank password"), AUTH_FAILED)
        self.assertEqual(self.apop("erin", "wrong password"), AUTH_FAILED)

    def test_unknown_user_fails_like_wrong_digest(self):
        self.assertEqual(self.apop("nobody", "erin password"), AUTH_FAILED)

    def test_both_secrets_accepted(self):
        self.assertEqual(self.apop("grace", "grace password"), LOGGED_IN)
        self.assertEqual(self.apop("grace", "grace pop3 secret"), LOGGED_IN)

    def test_upper_case_digest(self):
        client = self.connect("pop3")
        digest = apop_digest(client.timestamp(), "erin password").upper()
        self.assertEqual(client.command(f"APOP erin {digest}"), LOGGED_IN)

    def test_digest_bound_to_greeting(self):
        # A digest computed for another connection's timestamp is useless.
        first = self.connect("pop3")
        second = self.connect("pop3")
        digest = apop_digest(first.timestamp(), "erin password")
        self.assertEqual(second.command(f"APOP erin {digest}"), AUTH_FAILED)
        self.assertEqual(first.command(f"APOP erin {digest}"), LOGGED_IN)

    def test_missing_digest(self):
        client = self.connect("pop3")
        self.assertEqual(client.command("APOP erin"),
                         pop3_support.SYNTAX_ERROR)

    def test_poplib_apop(self):
        pop = self.poplib_connect("pop3", stls=False)
        self.assertEqual(pop.apop("dave", "dave pop3 secret"),
                         LOGGED_IN.rstrip(b"\r\n"))
        self.assertEqual(pop.stat(), (0, 0))

    def test_poplib_apop_wrong_secret(self):
        pop = self.poplib_connect("pop3", stls=False)
        with self.assertRaises(poplib.error_proto) as raised:
            pop.apop("erin", "wrong password")
        self.assertEqual(raised.exception.args[0],
                         AUTH_FAILED.rstrip(b"\r\n"))

    def test_logged(self):
        self.apop("dave", "dave pop3 secret")
        self.apop("frank", "frank password")
        log = self.server.log_text()
        self.assertIn("event=auth mechanism=APOP user=dave result=ok", log)
        self.assertIn("event=auth mechanism=APOP user=frank result=failed",
                      log)


class SmtpTests(OverrideTestCase):
    def smtp_auth(self, user, password):
        client = harness.SmtpClient(self.server.port("submission"))
        self.addCleanup(client.close)
        client.read_reply()
        client.secure()
        plain = harness.sasl_plain(user, password)
        return client.command(f"AUTH PLAIN {plain}")

    def test_override_rejected(self):
        self.assertEqual(self.smtp_auth("dave", "dave pop3 secret"),
                         SMTP_AUTH_INVALID)

    def test_normal_password_accepted(self):
        self.assertEqual(self.smtp_auth("dave", "dave password"),
                         SMTP_AUTH_OK)

    def test_apop_account_normal_password_accepted(self):
        self.assertEqual(self.smtp_auth("grace", "grace password"),
                         SMTP_AUTH_OK)
        self.assertEqual(self.smtp_auth("grace", "grace pop3 secret"),
                         SMTP_AUTH_INVALID)


if __name__ == "__main__":
    unittest.main()
