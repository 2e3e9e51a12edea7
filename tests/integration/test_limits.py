"""[server] max_sessions, smtp_timeout and pop3_timeout: the session limit
turns clients away with the protocol's temporary error, and an idle
client receives the timeout reply before the connection closes."""

import time
import unittest

import harness


class SmtpTimeoutTests(harness.SmtpTestCase):
    server_options = {"server_settings": {"smtp_timeout": 1}}

    def test_idle_client_gets_421(self):
        client = self.connect("smtp")
        self.assertEqual(client.command("EHLO client.example")[:4], b"250-")
        # The read waits past the one-second timeout.
        self.assertEqual(client.read_line(),
                         b"421 4.4.2 Timeout, closing connection\r\n")
        self.assertRaises(harness.ConnectionClosed, client.read_line)


class Pop3TimeoutTests(harness.SmtpTestCase):
    server_options = {"server_settings": {"pop3_timeout": 1}}

    def test_idle_client_gets_err(self):
        client = self.connect("pop3")
        self.assertTrue(client.greeting.startswith(b"+OK "))
        self.assertEqual(client.read_line(),
                         b"-ERR Timeout, closing connection\r\n")
        self.assertRaises(harness.ConnectionClosed, client.read_line)


class SessionLimitTests(harness.SmtpTestCase):
    server_options = {"server_settings": {"max_sessions": 1}}

    def connect_first(self, listener, welcome):
        """Connects until a session is served: the probes of start() may
        still count against the limit for a moment after they close."""
        deadline = time.monotonic() + 10
        while True:
            client = self.connect(listener)
            if client.greeting.startswith(welcome):
                return client
            self.assertLess(time.monotonic(), deadline, client.greeting)
            client.close()
            time.sleep(0.05)

    def test_second_smtp_client_turned_away(self):
        first = self.connect_first("smtp", b"220 ")
        self.assertTrue(first.greeting.startswith(b"220 "))
        second = self.connect("smtp")
        self.assertEqual(second.greeting,
                         b"421 4.3.2 Too many connections, try later\r\n")

    def test_second_pop3_client_turned_away(self):
        first = self.connect_first("pop3", b"+OK ")
        self.assertTrue(first.greeting.startswith(b"+OK "))
        second = self.connect("pop3")
        self.assertEqual(
            second.greeting,
            b"-ERR [SYS/TEMP] Too many connections, try later\r\n")


class LimitConfigTests(unittest.TestCase):

    def test_out_of_range_values_rejected(self):
        for key, value in (("max_sessions", 0), ("smtp_timeout", 0),
                           ("pop3_timeout", 86401)):
            with self.subTest(key=key):
                with harness.Server(server_settings={key: value}) as server:
                    result = server.cli("check-config")
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn(f"server.{key}: must be between",
                              result.stderr)

    def test_short_timeouts_warn(self):
        with harness.Server(server_settings={"smtp_timeout": 60,
                                             "pop3_timeout": 60}) as server:
            result = server.cli("check-config")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("server.smtp_timeout: below the 300 seconds",
                      result.stderr)
        self.assertIn("server.pop3_timeout: below the 600 seconds",
                      result.stderr)


if __name__ == "__main__":
    unittest.main()
