"""The greeting and the EHLO and HELO replies on each kind of listener
(RFC 5321, section 4.1.1.1; STARTTLS RFC 3207; AUTH RFC 4954)."""

import unittest

import harness

GREETING = b"220 mail.test ESMTP Postern ready\r\n"

# Every EHLO reply begins with these lines and ends with HELP; STARTTLS and
# AUTH sit between them when offered.
EHLO_HEAD = (
    b"250-mail.test greets client.test\r\n"
    b"250-PIPELINING\r\n"
    b"250-SIZE 36700160\r\n"
    b"250-8BITMIME\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
)
EHLO_TAIL = b"250 HELP\r\n"

# The default [auth.smtp] offers the challenge-response mechanisms on any
# connection, and PLAIN and LOGIN only over TLS. The SCRAM -PLUS variants
# bind to the TLS channel, so only encrypted connections list them. The
# second line is the "AUTH=" form that older Outlook versions expect.
AUTH_CLEAR = (b"250-AUTH SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 NTLM\r\n"
              b"250-AUTH=SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 NTLM\r\n")
AUTH_ENCRYPTED = (
    b"250-AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS "
    b"SCRAM-SHA-1 CRAM-MD5 NTLM PLAIN LOGIN\r\n"
    b"250-AUTH=SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS "
    b"SCRAM-SHA-1 CRAM-MD5 NTLM PLAIN LOGIN\r\n")

EHLO_CLEAR = EHLO_HEAD + b"250-STARTTLS\r\n" + AUTH_CLEAR + EHLO_TAIL
EHLO_ENCRYPTED = EHLO_HEAD + AUTH_ENCRYPTED + EHLO_TAIL

# Every mechanism the server has, each set to "tls".
ALL_MECHANISMS_TLS = {
    name: "tls" for name in (
        "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
        "SCRAM-SHA-1", "CRAM-MD5", "NTLM", "PLAIN", "LOGIN")}


class DefaultEhloTests(harness.SmtpTestCase):
    def test_greeting(self):
        for listener in ("smtp", "submission", "submissions"):
            with self.subTest(listener=listener):
                client = self.connect(listener)
                self.assertEqual(client.greeting, GREETING)

    def test_clear_offers_challenge_mechanisms(self):
        # PLAIN and LOGIN send the password itself, so by default a clear
        # connection is offered only the challenge-response mechanisms.
        for listener in ("smtp", "submission"):
            with self.subTest(listener=listener):
                client = self.connect(listener)
                self.assertEqual(client.ehlo(), EHLO_CLEAR)

    def test_after_starttls_offers_auth(self):
        client = self.connect("smtp")
        self.assertEqual(client.secure(), EHLO_ENCRYPTED)

    def test_implicit_tls_offers_auth(self):
        client = self.connect("submissions")
        self.assertEqual(client.ehlo(), EHLO_ENCRYPTED)

    def test_helo_reply_is_one_line(self):
        client = self.connect("smtp")
        self.assertEqual(client.command("HELO client.test"),
                         b"250 mail.test\r\n")

    def test_ehlo_again_same_reply(self):
        client = self.connect("smtp")
        self.assertEqual(client.ehlo(), EHLO_CLEAR)
        self.assertEqual(client.ehlo(), EHLO_CLEAR)

    def test_ehlo_name_in_first_line(self):
        client = self.connect("smtp")
        reply = client.ehlo("[127.0.0.1]")
        self.assertTrue(
            reply.startswith(b"250-mail.test greets [127.0.0.1]\r\n"),
            reply)

    def test_ehlo_without_name_rejected(self):
        client = self.connect("smtp")
        self.assertEqual(client.command("EHLO"),
                         b"501 5.5.4 Syntax: EHLO hostname\r\n")
        self.assertEqual(client.command("HELO"),
                         b"501 5.5.4 Syntax: HELO hostname\r\n")

    def test_ehlo_keyword_case_insensitive(self):
        client = self.connect("smtp")
        self.assertEqual(client.command("ehlo client.test"), EHLO_CLEAR)


class LoginAllowedEhloTests(harness.SmtpTestCase):
    server_options = {"smtp_auth": {"PLAIN": "tls", "LOGIN": "allow"}}

    def test_clear_offers_login_not_plain(self):
        client = self.connect("smtp")
        self.assertEqual(
            client.ehlo(),
            EHLO_HEAD
            + b"250-STARTTLS\r\n"
            + b"250-AUTH SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 NTLM LOGIN\r\n"
            + b"250-AUTH=SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 NTLM LOGIN\r\n"
            + EHLO_TAIL)

    def test_encrypted_offers_both(self):
        client = self.connect("smtp")
        self.assertEqual(client.secure(), EHLO_ENCRYPTED)


class DeniedMechanismEhloTests(harness.SmtpTestCase):
    server_options = {"smtp_auth": {"PLAIN": "deny", "LOGIN": "tls"}}

    def test_denied_mechanism_not_offered(self):
        client = self.connect("submissions")
        self.assertEqual(
            client.ehlo(),
            EHLO_HEAD
            + b"250-AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS "
            b"SCRAM-SHA-1 CRAM-MD5 NTLM LOGIN\r\n"
            + b"250-AUTH=SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS "
            b"SCRAM-SHA-1 CRAM-MD5 NTLM LOGIN\r\n"
            + EHLO_TAIL)


class TlsOnlyEhloTests(harness.SmtpTestCase):
    server_options = {"smtp_auth": ALL_MECHANISMS_TLS}

    def test_clear_offers_starttls_without_auth(self):
        # No mechanism is available in clear, so the AUTH keyword is left
        # out rather than sent with an empty list.
        for listener in ("smtp", "submission"):
            with self.subTest(listener=listener):
                client = self.connect(listener)
                self.assertEqual(client.ehlo(),
                                 EHLO_HEAD + b"250-STARTTLS\r\n" + EHLO_TAIL)

    def test_encrypted_offers_all(self):
        client = self.connect("smtp")
        self.assertEqual(client.secure(), EHLO_ENCRYPTED)


class PlainListenerEhloTests(harness.SmtpTestCase):
    server_options = {"extra_listeners": [
        {"name": "plain", "protocol": "smtp", "tls": "none"}]}

    def test_no_starttls_without_tls(self):
        client = self.connect("plain")
        self.assertEqual(client.ehlo(), EHLO_HEAD + AUTH_CLEAR + EHLO_TAIL)

    def test_starttls_not_implemented(self):
        client = self.connect("plain")
        client.ehlo()
        self.assertEqual(client.command("STARTTLS"),
                         b"502 5.5.1 Command not implemented\r\n")


class SizeEhloTests(harness.SmtpTestCase):
    server_options = {"server_settings": {"max_message_size": 10000}}

    def test_size_shows_configured_maximum(self):
        client = self.connect("smtp")
        self.assertEqual(client.ehlo(),
                         EHLO_HEAD.replace(b"SIZE 36700160", b"SIZE 10000")
                         + b"250-STARTTLS\r\n"
                         + AUTH_CLEAR
                         + EHLO_TAIL)


if __name__ == "__main__":
    unittest.main()
