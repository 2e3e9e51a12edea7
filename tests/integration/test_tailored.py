"""A tailored server built with mechanism_set<scram_sha256> offers and
contains only SCRAM-SHA-256 (examples/scram_submission.cpp)."""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import harness

EXAMPLE = os.environ.get("POSTERN_SCRAM_EXAMPLE", "")

# Symbols of the mechanisms left out of the set; none may be in the binary.
FOREIGN_SYMBOLS = re.compile(
    r"sasl::ntlm|sasl::nt_hash|cram_md5|md4_digest|sasl::plain\b|"
    r"sasl::login\b")


@unittest.skipUnless(EXAMPLE, "examples were not built")
class TailoredBinaryTests(unittest.TestCase):

    def test_binary_has_no_other_mechanisms(self):
        symbols = subprocess.run(["nm", "-C", EXAMPLE], capture_output=True,
                                 text=True, check=True).stdout
        self.assertIn("scram_sha256_hash", symbols)
        self.assertEqual(FOREIGN_SYMBOLS.findall(symbols), [])


@unittest.skipUnless(EXAMPLE, "examples were not built")
class TailoredServerTests(unittest.TestCase):

    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="postern-tailored-")
        self.port = harness.free_port()
        self.log = open(os.path.join(self.folder, "log"), "w+")
        self.process = subprocess.Popen(
            [EXAMPLE, self.folder, str(self.port), "alice", "pencil"],
            stderr=self.log, stdout=self.log)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.fail("example server did not listen")
                time.sleep(0.05)

    def tearDown(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def ehlo_after_starttls(self):
        sock = socket.create_connection(("127.0.0.1", self.port), 10)
        stream = sock.makefile("rb")
        stream.readline()
        sock.sendall(b"EHLO client.example\r\n")
        clear = read_reply(stream)
        sock.sendall(b"STARTTLS\r\n")
        self.assertEqual(stream.readline(), b"220 2.0.0 Ready to start TLS\r\n")
        context = ssl._create_unverified_context()
        tls = context.wrap_socket(sock, server_hostname="localhost")
        stream = tls.makefile("rb")
        tls.sendall(b"EHLO client.example\r\n")
        return tls, stream, clear, read_reply(stream)

    def test_offers_only_scram_sha256(self):
        tls, stream, clear, encrypted = self.ehlo_after_starttls()
        self.assertFalse([line for line in clear if b"AUTH" in line])
        self.assertIn(b"250-AUTH SCRAM-SHA-256\r\n", encrypted)
        self.assertIn(b"250-AUTH=SCRAM-SHA-256\r\n", encrypted)
        for mechanism in (b"PLAIN", b"LOGIN", b"CRAM-MD5", b"NTLM"):
            with self.subTest(mechanism=mechanism):
                tls.sendall(b"AUTH " + mechanism + b"\r\n")
                self.assertEqual(
                    stream.readline(),
                    b"504 5.5.4 Unrecognized authentication type\r\n")
        tls.close()

    def test_msmtp_sends_with_scram_sha256(self):
        message = b"Subject: tailored\r\n\r\nSCRAM only.\r\n"
        result = subprocess.run(
            ["timeout", "30", "msmtp", "--host=127.0.0.1",
             f"--port={self.port}", "--tls=on", "--tls-starttls=on",
             "--tls-certcheck=off", "--auth=scram-sha-256", "--user=alice",
             "--passwordeval=echo pencil", "--from=alice@localhost",
             "alice@localhost"],
            input=message, capture_output=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        new = os.path.join(self.folder, "mail", "alice", "new")
        files = os.listdir(new)
        self.assertEqual(len(files), 1)
        with open(os.path.join(new, files[0]), "rb") as stored:
            self.assertTrue(stored.read().endswith(
                b"\nSubject: tailored\n\nSCRAM only.\n"))

    def test_msmtp_wrong_password_fails(self):
        result = subprocess.run(
            ["timeout", "30", "msmtp", "--host=127.0.0.1",
             f"--port={self.port}", "--tls=on", "--tls-starttls=on",
             "--tls-certcheck=off", "--auth=scram-sha-256", "--user=alice",
             "--passwordeval=echo wrong", "--from=alice@localhost",
             "alice@localhost"],
            input=b"Subject: x\r\n\r\nx\r\n", capture_output=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(b"535 5.7.8", result.stderr)


def read_reply(stream):
    """Reads one multi-line SMTP reply and returns its lines."""
    lines = []
    while True:
        line = stream.readline()
        lines.append(line)
        if len(line) < 4 or line[3:4] != b"-":
            return lines


if __name__ == "__main__":
    unittest.main()
