"""SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN: the exchanges,
every error reply, and the availability settings deny, allow and tls.
test_mech_smtp.py covers the challenge-response mechanisms."""

import unittest

import harness
from harness import b64, sasl_plain

PASSWORD = "correct horse"

AUTH_OK = b"235 2.7.0 Authentication successful\r\n"
INVALID = b"535 5.7.8 Authentication credentials invalid\r\n"
CANCELLED = b"501 5.7.0 Authentication cancelled\r\n"
BAD_BASE64 = b"501 5.5.2 Cannot decode base64 response\r\n"
MALFORMED = b"501 5.5.2 Malformed authentication message\r\n"
UNRECOGNIZED = b"504 5.5.4 Unrecognized authentication type\r\n"
ENCRYPTION_REQUIRED = (b"538 5.7.11 Encryption required for requested "
                       b"authentication mechanism\r\n")
USERNAME_PROMPT = b"334 VXNlcm5hbWU6\r\n"  # "Username:"
PASSWORD_PROMPT = b"334 UGFzc3dvcmQ6\r\n"  # "Password:"
EMPTY_CHALLENGE = b"334 \r\n"


class EncryptedAuthTests(harness.SmtpTestCase):
    """AUTH over implicit TLS on the submissions listener, where the
    default availability (tls) offers PLAIN and LOGIN."""

    def open(self):
        client = self.connect("submissions")
        client.ehlo()
        return client

    def test_plain_initial_response(self):
        client = self.open()
        self.assertEqual(
            client.command(f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
            AUTH_OK)

    def test_plain_without_initial_response(self):
        client = self.open()
        self.assertEqual(client.command("AUTH PLAIN"), EMPTY_CHALLENGE)
        self.assertEqual(client.command(sasl_plain("alice", PASSWORD)),
                         AUTH_OK)

    def test_plain_authzid_same_user(self):
        client = self.open()
        response = sasl_plain("alice", PASSWORD, authzid="alice")
        self.assertEqual(client.command(f"AUTH PLAIN {response}"), AUTH_OK)

    def test_plain_authzid_other_user_rejected(self):
        client = self.open()
        response = sasl_plain("alice", PASSWORD, authzid="bob")
        self.assertEqual(client.command(f"AUTH PLAIN {response}"), INVALID)

    def test_user_name_case_insensitive(self):
        client = self.open()
        response = sasl_plain("ALICE", PASSWORD)
        self.assertEqual(client.command(f"AUTH PLAIN {response}"), AUTH_OK)

    def test_wrong_password(self):
        client = self.open()
        for label, response in [
            ("wrong password", sasl_plain("alice", "wrong horse")),
            ("other user's password", sasl_plain("alice", "battery staple")),
            ("password in other case", sasl_plain("alice", "Correct Horse")),
            ("unknown user", sasl_plain("mallory", PASSWORD)),
        ]:
            with self.subTest(label):
                self.assertEqual(client.command(f"AUTH PLAIN {response}"),
                                 INVALID)
        # The failures leave the session usable.
        self.assertEqual(client.command("NOOP"), b"250 2.0.0 OK\r\n")

    def test_login_prompts(self):
        client = self.open()
        self.assertEqual(client.command("AUTH LOGIN"), USERNAME_PROMPT)
        self.assertEqual(client.command(b64("alice")), PASSWORD_PROMPT)
        self.assertEqual(client.command(b64(PASSWORD)), AUTH_OK)

    def test_login_initial_response(self):
        client = self.open()
        self.assertEqual(client.command(f"AUTH LOGIN {b64('alice')}"),
                         PASSWORD_PROMPT)
        self.assertEqual(client.command(b64(PASSWORD)), AUTH_OK)

    def test_login_wrong_password(self):
        client = self.open()
        self.assertEqual(client.command("AUTH LOGIN"), USERNAME_PROMPT)
        self.assertEqual(client.command(b64("alice")), PASSWORD_PROMPT)
        self.assertEqual(client.command(b64("wrong horse")), INVALID)

    def test_cancel_at_each_step(self):
        cases = [
            ("PLAIN challenge", ["AUTH PLAIN"]),
            ("LOGIN user name", ["AUTH LOGIN"]),
            ("LOGIN password", ["AUTH LOGIN", b64("alice")]),
        ]
        client = self.open()
        for label, lines in cases:
            with self.subTest(label):
                for line in lines:
                    self.assertEqual(client.command(line)[:4], b"334 ")
                self.assertEqual(client.command("*"), CANCELLED)
        # A cancelled exchange leaves the client free to try again.
        self.assertEqual(
            client.command(f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
            AUTH_OK)

    def test_bad_base64(self):
        cases = [
            ("initial response", "AUTH PLAIN not*base64", None),
            ("missing padding", "AUTH PLAIN AGFsaWNlAA", None),
            ("PLAIN response", "AUTH PLAIN", "@@@@"),
            ("LOGIN user name", "AUTH LOGIN", "YWxpY2U"),
        ]
        client = self.open()
        for label, command, response in cases:
            with self.subTest(label):
                if response is None:
                    self.assertEqual(client.command(command), BAD_BASE64)
                else:
                    self.assertEqual(client.command(command)[:4], b"334 ")
                    self.assertEqual(client.command(response), BAD_BASE64)
                self.assertEqual(client.command("NOOP"), b"250 2.0.0 OK\r\n")

    def test_plain_empty_initial_response(self):
        # "=" is a zero-length initial response (RFC 4954, section 4); an
        # empty PLAIN message has no authcid or password.
        client = self.open()
        self.assertEqual(client.command("AUTH PLAIN ="), MALFORMED)
        self.assertEqual(
            client.command(f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
            AUTH_OK)

    def test_plain_missing_password_malformed(self):
        client = self.open()
        for label, message in [
            ("no separator", "alice"),
            ("empty password", "\0alice\0"),
            ("empty user", "\0\0" + PASSWORD),
        ]:
            with self.subTest(label):
                self.assertEqual(client.command(f"AUTH PLAIN {b64(message)}"),
                                 MALFORMED)

    def test_unknown_mechanisms(self):
        client = self.open()
        for mechanism in ("X-UNKNOWN", "DIGEST-MD5", "GSSAPI"):
            with self.subTest(mechanism):
                self.assertEqual(client.command(f"AUTH {mechanism}"),
                                 UNRECOGNIZED)

    def test_auth_without_mechanism(self):
        client = self.open()
        self.assertEqual(
            client.command("AUTH"),
            b"501 5.5.4 Syntax error in parameters or arguments\r\n")

    def test_auth_before_ehlo(self):
        client = self.connect("submissions")
        self.assertEqual(
            client.command(f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
            b"503 5.5.1 Send EHLO or HELO first\r\n")

    def test_auth_inside_transaction(self):
        client = self.open()
        self.assertEqual(client.command("MAIL FROM:<alice@mail.test>"),
                         b"250 2.1.0 Sender OK\r\n")
        self.assertEqual(
            client.command(f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
            b"503 5.5.1 AUTH not allowed during a mail transaction\r\n")
        self.assertEqual(client.command("RSET"),
                         b"250 2.0.0 Reset OK\r\n")
        self.assertEqual(
            client.command(f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
            AUTH_OK)

    def test_second_auth_rejected(self):
        client = self.open()
        client.authenticate("alice", PASSWORD)
        for command in (f"AUTH PLAIN {sasl_plain('bob', 'battery staple')}",
                        "AUTH LOGIN"):
            with self.subTest(command=command.split()[1]):
                self.assertEqual(client.command(command),
                                 b"503 5.5.1 Already authenticated\r\n")

    def test_overlong_response_line(self):
        client = self.open()
        self.assertEqual(client.command("AUTH PLAIN"), EMPTY_CHALLENGE)
        self.assertEqual(
            client.command("A" * 20000),
            b"500 5.5.6 Authentication exchange line is too long\r\n")
        self.assertEqual(client.command("NOOP"), b"250 2.0.0 OK\r\n")

    def test_five_failures_close_connection(self):
        client = self.open()
        wrong = f"AUTH PLAIN {sasl_plain('alice', 'wrong')}"
        for attempt in range(4):
            with self.subTest(attempt=attempt + 1):
                self.assertEqual(client.command(wrong), INVALID)
        client.send(wrong + "\r\n")
        self.assertEqual(
            client.read_until_closed(),
            INVALID + b"421 4.7.0 Too many errors, closing connection\r\n")

    def run_failed_and_good_auth(self):
        client = self.open()
        client.command(f"AUTH PLAIN {sasl_plain('alice', 'wrong horse')}")
        client.authenticate("alice", PASSWORD)
        client.command("QUIT")
        client.read_until_closed()
        return self.server.log_text()

    def test_log_names_user_of_success(self):
        log = self.run_failed_and_good_auth()
        self.assertRegex(log, r"event=auth mechanism=PLAIN user=alice "
                              r"result=ok")

    def test_log_names_user_of_failure(self):
        log = self.run_failed_and_good_auth()
        self.assertRegex(log, r"event=auth mechanism=PLAIN user=alice "
                              r"result=failed")

    def test_log_omits_secrets(self):
        log = self.run_failed_and_good_auth()
        for secret in (PASSWORD, "wrong horse", sasl_plain("alice", PASSWORD),
                       sasl_plain("alice", "wrong horse"), b64(PASSWORD)):
            with self.subTest(secret=secret):
                self.assertNotIn(secret, log)


class StartTlsAuthTests(harness.SmtpTestCase):
    def test_plain_after_starttls(self):
        for listener in ("smtp", "submission"):
            with self.subTest(listener=listener):
                client = self.connect(listener)
                client.secure()
                self.assertEqual(
                    client.command(
                        f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
                    AUTH_OK)

    def test_default_rejects_both_in_clear(self):
        client = self.connect("submission")
        client.ehlo()
        for command in (f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}",
                        "AUTH LOGIN"):
            with self.subTest(command=command.split()[1]):
                self.assertEqual(client.command(command), ENCRYPTION_REQUIRED)

    def test_authentication_forgotten_after_starttls(self):
        # RFC 3207, section 4.2: the server discards what it learnt from
        # the client before TLS, so no identity may survive the handshake.
        # Here AUTH in clear is refused, so the check is that AUTH works
        # once after TLS, and only once.
        client = self.connect("smtp")
        client.secure()
        client.authenticate("alice", PASSWORD)
        self.assertEqual(
            client.command(f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
            b"503 5.5.1 Already authenticated\r\n")


class PlainNeedsTlsTests(harness.SmtpTestCase):
    server_options = {"smtp_auth": {"PLAIN": "tls", "LOGIN": "allow"}}

    def test_plain_in_clear_rejected(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(
            client.command(f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
            ENCRYPTION_REQUIRED)
        self.assertEqual(client.command("AUTH PLAIN"), ENCRYPTION_REQUIRED)

    def test_login_in_clear_allowed(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command("AUTH LOGIN"), USERNAME_PROMPT)
        self.assertEqual(client.command(b64("alice")), PASSWORD_PROMPT)
        self.assertEqual(client.command(b64(PASSWORD)), AUTH_OK)

    def test_login_then_starttls_forgets_user(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command(f"AUTH LOGIN {b64('alice')}"),
                         PASSWORD_PROMPT)
        self.assertEqual(client.command(b64(PASSWORD)), AUTH_OK)
        client.secure()
        # Had the identity survived STARTTLS this would be 503.
        bob = sasl_plain("bob", "battery staple")
        self.assertEqual(client.command(f"AUTH PLAIN {bob}"), AUTH_OK)

    def test_plain_after_starttls(self):
        client = self.connect("smtp")
        client.secure()
        self.assertEqual(
            client.command(f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
            AUTH_OK)


class DeniedMechanismTests(harness.SmtpTestCase):
    server_options = {"smtp_auth": {
        "PLAIN": "deny", "LOGIN": "allow", "CRAM-MD5": "deny",
        "SCRAM-SHA-256": "deny", "NTLM": "deny"}}

    def test_denied_mechanism_unrecognized(self):
        for listener in ("smtp", "submissions"):
            with self.subTest(listener=listener):
                client = self.connect(listener)
                client.ehlo()
                self.assertEqual(
                    client.command(
                        f"AUTH PLAIN {sasl_plain('alice', PASSWORD)}"),
                    UNRECOGNIZED)

    def test_denied_challenge_mechanisms_unrecognized(self):
        # A denied mechanism gets the same reply as if the server had never heard
        # of it, before any challenge is sent.
        client = self.connect("submissions")
        client.ehlo()
        for mechanism in ("CRAM-MD5", "SCRAM-SHA-256", "NTLM"):
            with self.subTest(mechanism):
                self.assertEqual(client.command(f"AUTH {mechanism}"),
                                 UNRECOGNIZED)
        # The mechanisms that are not denied still run.
        self.assertEqual(client.command("AUTH LOGIN"), USERNAME_PROMPT)


if __name__ == "__main__":
    unittest.main()
