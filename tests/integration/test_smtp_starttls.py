"""STARTTLS (RFC 3207): command injection before the handshake
(CVE-2011-0411), the error replies, and the state reset after TLS."""

import socket
import ssl
import unittest

import harness

READY = b"220 2.0.0 Ready to start TLS\r\n"
EHLO_ENCRYPTED = (
    b"250-mail.test greets client.test\r\n"
    b"250-PIPELINING\r\n"
    b"250-SIZE 36700160\r\n"
    b"250-8BITMIME\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
    b"250-AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS "
    b"SCRAM-SHA-1 CRAM-MD5 NTLM PLAIN LOGIN\r\n"
    b"250-AUTH=SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS "
    b"SCRAM-SHA-1 CRAM-MD5 NTLM PLAIN LOGIN\r\n"
    b"250 HELP\r\n"
)


class InjectionTests(harness.SmtpTestCase):
    """Bytes sent in clear after STARTTLS, in the same packet, could come
    from an attacker in the path; the server must drop them unread."""

    def inject(self, injected):
        client = self.connect("smtp")
        client.ehlo()
        client.send(b"STARTTLS\r\n" + injected)
        self.assertEqual(client.read_reply(), READY)
        # Had the server run the injected commands before the handshake,
        # their replies would arrive here, in clear.
        self.assertEqual(client.read_available(0.5), b"")
        client.starttls()
        return client

    def test_noop_not_executed(self):
        client = self.inject(b"NOOP\r\n")
        self.assertEqual(client.ehlo(), EHLO_ENCRYPTED)
        self.assertEqual(client.read_available(0.5), b"")
        self.assertEqual(client.command("NOOP"), b"250 2.0.0 OK\r\n")

    def test_rset_not_executed(self):
        client = self.inject(b"RSET\r\n")
        self.assertEqual(client.ehlo(), EHLO_ENCRYPTED)
        self.assertEqual(client.read_available(0.5), b"")

    def test_transaction_not_executed(self):
        client = self.inject(b"EHLO evil.test\r\n"
                             b"MAIL FROM:<evil@example.org>\r\n"
                             b"RCPT TO:<alice@mail.test>\r\n")
        self.assertEqual(client.ehlo(), EHLO_ENCRYPTED)
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"503 5.5.1 Need MAIL command\r\n")

    def test_auth_not_executed(self):
        plain = harness.sasl_plain("alice", "correct horse")
        client = self.inject(f"AUTH PLAIN {plain}\r\n".encode("ascii"))
        self.assertEqual(client.ehlo(), EHLO_ENCRYPTED)
        # An AUTH run after the handshake would make this 503.
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"),
                         b"235 2.7.0 Authentication successful\r\n")


class StartTlsCommandTests(harness.SmtpTestCase):
    def test_parameter_rejected(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command("STARTTLS now"),
                         b"501 5.5.4 Syntax error, no parameters allowed\r\n")
        # The connection is still in clear and STARTTLS still works.
        self.assertEqual(client.command("STARTTLS"), READY)
        client.starttls()
        self.assertEqual(client.ehlo(), EHLO_ENCRYPTED)

    def test_twice_rejected(self):
        client = self.connect("smtp")
        client.secure()
        self.assertEqual(client.command("STARTTLS"),
                         b"503 5.5.1 TLS already active\r\n")

    def test_implicit_tls_rejects_starttls(self):
        client = self.connect("submissions")
        client.ehlo()
        self.assertEqual(client.command("STARTTLS"),
                         b"503 5.5.1 TLS already active\r\n")

    def test_mail_before_ehlo_after_tls(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command("STARTTLS"), READY)
        client.starttls()
        self.assertEqual(client.command("MAIL FROM:<alice@mail.test>"),
                         b"503 5.5.1 Send EHLO or HELO first\r\n")
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"503 5.5.1 Send EHLO or HELO first\r\n")
        self.assertEqual(client.command("DATA"),
                         b"503 5.5.1 Send EHLO or HELO first\r\n")

    def test_transaction_reset_by_tls(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command("MAIL FROM:<alice@mail.test>"),
                         b"250 2.1.0 Sender OK\r\n")
        self.assertEqual(client.command("STARTTLS"), READY)
        client.starttls()
        client.ehlo()
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"503 5.5.1 Need MAIL command\r\n")

    def test_helo_name_replaced_after_tls(self):
        client = self.connect("smtp")
        client.ehlo("before.test")
        self.assertEqual(client.command("STARTTLS"), READY)
        client.starttls()
        reply = client.ehlo("after.test")
        self.assertTrue(
            reply.startswith(b"250-mail.test greets after.test\r\n"), reply)

    def test_tls12_client(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command("STARTTLS"), READY)
        context = harness.client_tls_context()
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        client.sock = context.wrap_socket(client.sock,
                                          server_hostname=harness.IDENTITY)
        self.assertEqual(client.tls_version(), "TLSv1.2")
        self.assertEqual(client.ehlo(), EHLO_ENCRYPTED)

    def test_failed_handshake_closes_only_that_connection(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command("STARTTLS"), READY)
        client.send(b"this is not a TLS ClientHello\r\n" * 4)
        try:
            leftover = client.read_until_closed()
        except ConnectionResetError:
            leftover = b""
        # A TLS alert may come back, but no SMTP reply in clear.
        self.assertNotIn(b"250", leftover)
        self.assertNotIn(b"500", leftover)

        other = self.connect("smtp")
        self.assertEqual(other.greeting,
                         b"220 mail.test ESMTP Postern ready\r\n")
        self.assertEqual(other.secure(), EHLO_ENCRYPTED)

    def test_closed_during_handshake_server_survives(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command("STARTTLS"), READY)
        client.sock.shutdown(socket.SHUT_RDWR)
        client.close()
        other = self.connect("submissions")
        self.assertEqual(other.greeting,
                         b"220 mail.test ESMTP Postern ready\r\n")


if __name__ == "__main__":
    unittest.main()
