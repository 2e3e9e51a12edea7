"""Submission with the command-line clients swaks and curl, over implicit
TLS (RFC 8314) and STARTTLS (RFC 3207), with AUTH LOGIN and PLAIN."""

import os
import re
import subprocess
import unittest

import harness
from harness import read_bytes

PASSWORD = "correct horse"
CLIENT_TIMEOUT = 30


class ClientTestCase(harness.SmtpTestCase):
    def write_message(self, name, contents):
        path = os.path.join(self.server.root, name)
        with open(path, "wb") as file:
            file.write(contents)
        return path

    def run_client(self, args):
        result = subprocess.run(args, capture_output=True,
                                timeout=CLIENT_TIMEOUT, check=False)
        return (result.returncode, result.stdout.decode("utf-8", "replace"),
                result.stderr.decode("utf-8", "replace"))

    def assert_stored(self, user, message, tls):
        """Check that `user` received one message whose body after the
        trace headers is `message` with LF line endings."""
        files = self.server.mail_files(user)
        self.assertEqual(len(files), 1, files)
        self.assertEqual(self.server.mail_files(user, "tmp"), [])
        contents = read_bytes(files[0])
        head = b"Return-Path: <alice@mail.test>\n"
        self.assertTrue(contents.startswith(head), contents[:100])
        rest = contents[len(head):].decode("utf-8")
        pattern = harness.received_pattern(
            "ESMTPSA", tls=tls, user="alice", recipient=f"{user}@mail.test")
        match = pattern.match(rest)
        self.assertIsNotNone(match, rest[:600])
        self.assertEqual(rest[match.end():].encode("utf-8"),
                         message.replace(b"\r\n", b"\n"))


class SwaksTests(ClientTestCase):
    # swaks adds the CRLF that ends the last line before "." CRLF, so a
    # file that ended in CRLF would gain an empty line. This one does not.
    MESSAGE = (b"Subject: swaks\r\n"
               b"\r\n"
               b"Hello from swaks.\r\n"
               b".a line that begins with a dot")

    def swaks(self, listener, tls_option, mechanism, password=PASSWORD):
        data = self.write_message("swaks.eml", self.MESSAGE)
        return self.run_client([
            "swaks", "--server", f"127.0.0.1:{self.server.port(listener)}",
            tls_option, "--auth", mechanism,
            "--auth-user", "alice", "--auth-password", password,
            "--from", "alice@mail.test", "--to", "bob@mail.test",
            "--helo", harness.CLIENT_NAME, "--data", f"@{data}",
            "--timeout", "10"])

    @staticmethod
    def tls_of(output):
        match = re.search(r"=== TLS started with cipher ([^:\s]+):([^:\s]+):"
                          r"(\d+)", output)
        return match.groups() if match else None

    def test_implicit_tls_login(self):
        status, output, errors = self.swaks("submissions", "--tlsc", "LOGIN")
        self.assertEqual(status, 0, output + errors)
        self.assertIn("<~  334 VXNlcm5hbWU6\n", output)
        self.assertIn("<~  334 UGFzc3dvcmQ6\n", output)
        self.assertIn("<~  235 2.7.0 Authentication successful\n", output)
        self.assertIn("<~  250 2.0.0 Message accepted for delivery\n", output)
        self.assertIn("<~  221 2.0.0 mail.test closing connection\n", output)
        tls = self.tls_of(output)
        self.assertIsNotNone(tls, output)
        self.assert_stored("bob", self.MESSAGE + b"\r\n", tls)

    def test_starttls_plain(self):
        status, output, errors = self.swaks("submission", "--tls", "PLAIN")
        self.assertEqual(status, 0, output + errors)
        self.assertIn(" -> STARTTLS\n<-  220 2.0.0 Ready to start TLS\n",
                      output)
        self.assertIn("<~  235 2.7.0 Authentication successful\n", output)
        self.assert_stored("bob", self.MESSAGE + b"\r\n",
                           self.tls_of(output))

    def test_wrong_password_fails(self):
        status, output, _ = self.swaks("submissions", "--tlsc", "LOGIN",
                                       password="wrong horse")
        self.assertNotEqual(status, 0)
        self.assertIn("<~* 535 5.7.8 Authentication credentials invalid\n",
                      output)
        self.assertEqual(self.server.mail_files("bob"), [])


class CurlTests(ClientTestCase):
    MESSAGE = (b"From: Alice <alice@mail.test>\r\n"
               b"To: Bob <bob@mail.test>\r\n"
               b"Subject: curl\r\n"
               b"\r\n"
               b"Hello from curl.\r\n"
               b".a line that begins with a dot\r\n")

    def curl(self, url, message, *options):
        data = self.write_message("curl.eml", message)
        return self.run_client([
            "curl", "--verbose", "--silent", "--show-error", "--insecure",
            "--max-time", "20", "--url", url,
            "--user", f"alice:{PASSWORD}",
            "--mail-from", "alice@mail.test", "--mail-rcpt", "bob@mail.test",
            "--upload-file", data, *options])

    @staticmethod
    def tls_of(trace):
        match = re.search(r"SSL connection using (\S+) / (\S+)", trace)
        return (match[1], match[2], None) if match else None

    def test_smtps_login(self):
        url = (f"smtps://127.0.0.1:{self.server.port('submissions')}/"
               f"{harness.CLIENT_NAME}")
        status, _, trace = self.curl(url, self.MESSAGE,
                                     "--login-options", "AUTH=LOGIN")
        self.assertEqual(status, 0, trace)
        self.assertIn("> AUTH LOGIN\r\n", trace)
        self.assertIn("< 334 VXNlcm5hbWU6\r\n", trace)
        self.assertIn("< 334 UGFzc3dvcmQ6\r\n", trace)
        self.assertIn("< 235 2.7.0 Authentication successful\r\n", trace)
        self.assertIn("< 250 2.0.0 Message accepted for delivery\r\n", trace)
        tls = self.tls_of(trace)
        self.assertIsNotNone(tls, trace)
        self.assert_stored("bob", self.MESSAGE, tls)

    def test_starttls_plain(self):
        url = (f"smtp://127.0.0.1:{self.server.port('submission')}/"
               f"{harness.CLIENT_NAME}")
        status, _, trace = self.curl(url, self.MESSAGE, "--ssl-reqd",
                                     "--login-options", "AUTH=PLAIN")
        self.assertEqual(status, 0, trace)
        self.assertIn("< 220 2.0.0 Ready to start TLS\r\n", trace)
        self.assertIn("< 235 2.7.0 Authentication successful\r\n", trace)
        self.assert_stored("bob", self.MESSAGE, self.tls_of(trace))

    def test_crlf_option_converts_lf_file(self):
        url = (f"smtps://127.0.0.1:{self.server.port('submissions')}/"
               f"{harness.CLIENT_NAME}")
        lf_message = self.MESSAGE.replace(b"\r\n", b"\n")
        status, _, trace = self.curl(url, lf_message, "--crlf")
        self.assertEqual(status, 0, trace)
        self.assert_stored("bob", self.MESSAGE, self.tls_of(trace))

    def test_lf_file_rejected_as_bare_lf(self):
        # Without --crlf, curl sends the file's bare LFs, which the server
        # rejects as a whole (SMTP smuggling defence).
        url = (f"smtps://127.0.0.1:{self.server.port('submissions')}/"
               f"{harness.CLIENT_NAME}")
        lf_message = self.MESSAGE.replace(b"\r\n", b"\n")
        status, _, trace = self.curl(url, lf_message)
        self.assertNotEqual(status, 0)
        self.assertIn("< 554 5.5.2 Bare CR or LF in message data, lines "
                      "must end with CRLF\r\n", trace)
        self.assertEqual(self.server.mail_files("bob"), [])


if __name__ == "__main__":
    unittest.main()
