"""TLS seen from `openssl s_client` and Python's verifying client: the
STARTTLS (RFC 3207) and implicit TLS (RFC 8314) handshakes and the names
in the server certificate."""

import os
import re
import socket
import ssl
import subprocess
import unittest

import harness

OPENSSL_TIMEOUT = 30
EHLO_ENCRYPTED = (
    "250-mail.test greets client.test\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 36700160\r\n"
    "250-8BITMIME\r\n"
    "250-ENHANCEDSTATUSCODES\r\n"
    "250-AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS "
    "SCRAM-SHA-1 CRAM-MD5 NTLM PLAIN LOGIN\r\n"
    "250-AUTH=SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS "
    "SCRAM-SHA-1 CRAM-MD5 NTLM PLAIN LOGIN\r\n"
    "250 HELP\r\n"
)
CLOSING = "221 2.0.0 mail.test closing connection\r\n"
PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", re.S)


class OpensslTestCase(harness.SmtpTestCase):
    def certificate_path(self):
        return os.path.join(self.server.data_dir, "tls", "cert.pem")

    def s_client(self, listener, *options, stdin=b"EHLO client.test\nQUIT\n"):
        """Run s_client against a listener, verifying the certificate
        against the server's own cert.pem and the name mail.test. -crlf
        turns each LF of `stdin` into CRLF, and -ign_eof keeps reading
        until the server closes the connection."""
        args = ["openssl", "s_client",
                "-connect", f"127.0.0.1:{self.server.port(listener)}",
                "-servername", harness.IDENTITY,
                "-CAfile", self.certificate_path(),
                "-verify_hostname", harness.IDENTITY, "-verify_return_error",
                "-crlf", "-ign_eof", *options]
        result = subprocess.run(args, input=stdin, capture_output=True,
                                timeout=OPENSSL_TIMEOUT, check=False)
        return (result.returncode, result.stdout.decode("utf-8", "replace"),
                result.stderr.decode("utf-8", "replace"))

    def x509_text(self, pem, *options):
        result = subprocess.run(["openssl", "x509", "-noout", *options],
                                input=pem.encode("ascii"),
                                capture_output=True, timeout=OPENSSL_TIMEOUT,
                                check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.decode("ascii")


class SClientTests(OpensslTestCase):
    def test_starttls_session(self):
        status, output, errors = self.s_client("smtp", "-starttls", "smtp",
                                               "-quiet")
        self.assertEqual(status, 0, errors)
        self.assertIn("verify return:1", errors)
        # With -quiet, standard output holds only what the server sent
        # after the handshake.
        self.assertEqual(output, EHLO_ENCRYPTED + CLOSING)

    def test_implicit_tls_session(self):
        status, output, errors = self.s_client("submissions", "-quiet")
        self.assertEqual(status, 0, errors)
        self.assertEqual(output,
                         "220 mail.test ESMTP Postern ready\r\n"
                         + EHLO_ENCRYPTED + CLOSING)

    def test_starttls_on_submission(self):
        status, output, errors = self.s_client("submission", "-starttls",
                                               "smtp", "-quiet")
        self.assertEqual(status, 0, errors)
        self.assertEqual(output, EHLO_ENCRYPTED + CLOSING)

    def test_served_certificate_names(self):
        status, output, errors = self.s_client("smtp", "-starttls", "smtp",
                                               "-showcerts")
        self.assertEqual(status, 0, errors)
        self.assertIn("Verify return code: 0 (ok)", output)
        served = PEM_CERTIFICATE.findall(output)
        self.assertEqual(len(served), 1, output)
        self.assertEqual(
            self.x509_text(served[0], "-subject"),
            "subject=CN = mail.test\n")
        self.assertIn("DNS:mail.test",
                      self.x509_text(served[0], "-ext", "subjectAltName"))

    def test_served_certificate_is_cert_pem(self):
        _, output, _ = self.s_client("submissions", "-showcerts")
        served = PEM_CERTIFICATE.findall(output)
        self.assertEqual(len(served), 1, output)
        with open(self.certificate_path(), encoding="ascii") as file:
            stored = PEM_CERTIFICATE.findall(file.read())
        self.assertEqual(served, stored)

    def test_wrong_name_fails_verification(self):
        args = ["openssl", "s_client",
                "-connect", f"127.0.0.1:{self.server.port('submissions')}",
                "-CAfile", self.certificate_path(),
                "-verify_hostname", "other.test", "-verify_return_error"]
        result = subprocess.run(args, input=b"", capture_output=True,
                                timeout=OPENSSL_TIMEOUT, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(b"hostname mismatch", result.stdout + result.stderr)


class VerifyingClientTests(OpensslTestCase):
    """Python's ssl module with full verification, as a careful client
    configured to trust this certificate would connect."""

    def verifying_context(self):
        context = ssl.create_default_context(cafile=self.certificate_path())
        self.assertTrue(context.check_hostname)
        return context

    def test_implicit_tls_verifies(self):
        with socket.create_connection(
                ("127.0.0.1", self.server.port("submissions")),
                timeout=harness.SOCKET_TIMEOUT) as raw:
            with self.verifying_context().wrap_socket(
                    raw, server_hostname="mail.test") as tls:
                self.assertEqual(tls.recv(100),
                                 b"220 mail.test ESMTP Postern ready\r\n")

    def test_other_name_rejected(self):
        with socket.create_connection(
                ("127.0.0.1", self.server.port("submissions")),
                timeout=harness.SOCKET_TIMEOUT) as raw:
            with self.assertRaises(ssl.SSLCertVerificationError):
                self.verifying_context().wrap_socket(
                    raw, server_hostname="other.test")


if __name__ == "__main__":
    unittest.main()
