"""Shutdown on SIGTERM and SIGINT: idle clients get 421 (RFC 5321, section
3.8), a message being received is finished and stored first, and the
process exits 0."""

import signal
import socket
import time
import unittest

import harness
from harness import read_bytes

SHUTTING_DOWN = b"421 4.3.2 Service shutting down\r\n"
ACCEPTED = b"250 2.0.0 Message accepted for delivery\r\n"
EXIT_TIMEOUT = 10


class ShutdownTests(harness.SmtpTestCase):
    def signal_server(self, signum=signal.SIGTERM):
        self.server.process.send_signal(signum)

    def wait_for_exit(self):
        """Wait for the process to end; return its exit status."""
        self.server.process.wait(timeout=EXIT_TIMEOUT)
        return self.server.stop()

    def start_data(self, client):
        client.ehlo()
        self.assertEqual(client.command("MAIL FROM:<sender@example.org>"),
                         b"250 2.1.0 Sender OK\r\n")
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"250 2.1.5 Recipient OK\r\n")
        self.assertEqual(client.command("DATA"),
                         b"354 End data with <CR><LF>.<CR><LF>\r\n")

    def test_idle_after_ehlo_gets_421(self):
        client = self.connect("smtp")
        client.ehlo()
        self.signal_server()
        self.assertEqual(client.read_until_closed(), SHUTTING_DOWN)
        self.assertEqual(self.wait_for_exit(), 0)

    def test_idle_before_ehlo_gets_421(self):
        client = self.connect("submission")
        self.signal_server()
        self.assertEqual(client.read_until_closed(), SHUTTING_DOWN)
        self.assertEqual(self.wait_for_exit(), 0)

    def test_idle_tls_client_gets_421(self):
        client = self.connect("submissions")
        client.ehlo()
        self.signal_server()
        self.assertEqual(client.read_until_closed(), SHUTTING_DOWN)
        self.assertEqual(self.wait_for_exit(), 0)

    def test_mid_transaction_gets_421(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command("MAIL FROM:<sender@example.org>"),
                         b"250 2.1.0 Sender OK\r\n")
        self.signal_server()
        self.assertEqual(client.read_until_closed(), SHUTTING_DOWN)
        self.assertEqual(self.wait_for_exit(), 0)
        self.assertEqual(self.server.mail_files("alice"), [])

    def test_message_in_data_finished(self):
        client = self.connect("smtp")
        self.start_data(client)
        first = b"Subject: shutdown\r\n\r\nWritten before the signal.\r\n"
        second = b"Written after the signal.\r\n"
        client.send(first)
        time.sleep(0.3)
        self.signal_server()
        time.sleep(0.5)

        # The server waits for the message: nothing is stored yet, the
        # process still runs and no half-written file sits in new/.
        self.assertIsNone(self.server.process.poll())
        self.assertEqual(self.server.mail_files("alice", "new"), [])
        self.assertEqual(client.read_available(0.1), b"")

        client.send(second + b".\r\n")
        self.assertEqual(client.read_reply(), ACCEPTED)
        self.assertEqual(client.read_until_closed(), SHUTTING_DOWN)
        self.assertEqual(self.wait_for_exit(), 0)

        files = self.server.mail_files("alice", "new")
        self.assertEqual(len(files), 1)
        self.assertEqual(self.server.mail_files("alice", "tmp"), [])
        self.assertTrue(read_bytes(files[0]).endswith(
            b" +0000\n" + (first + second).replace(b"\r\n", b"\n")))

    def refuses_connections(self, port):
        """Return True once connecting to `port` is refused, polling for
        up to EXIT_TIMEOUT seconds while the listener closes."""
        deadline = time.monotonic() + EXIT_TIMEOUT
        while time.monotonic() < deadline:
            address = ("127.0.0.1", port)
            try:
                socket.create_connection(address, timeout=1).close()
            except ConnectionRefusedError:
                return True
            time.sleep(0.05)
        return False

    def test_no_new_connections_while_draining(self):
        client = self.connect("smtp")
        self.start_data(client)
        self.signal_server()
        for listener in ("smtp", "submission", "submissions"):
            with self.subTest(listener=listener):
                self.assertTrue(
                    self.refuses_connections(self.server.port(listener)))
        self.assertIsNone(self.server.process.poll())
        client.send(b"Subject: late\r\n\r\nStill delivered.\r\n.\r\n")
        self.assertEqual(client.read_reply(), ACCEPTED)
        self.assertEqual(self.wait_for_exit(), 0)
        self.assertEqual(len(self.server.mail_files("alice")), 1)

    def test_idle_and_busy_clients(self):
        busy = self.connect("smtp")
        self.start_data(busy)
        idle = self.connect("submission")
        idle.ehlo()
        self.signal_server()
        # The idle client is let go at once, while the busy one sends.
        self.assertEqual(idle.read_until_closed(), SHUTTING_DOWN)
        self.assertIsNone(self.server.process.poll())
        busy.send(b"Subject: busy\r\n\r\nFinished.\r\n.\r\n")
        self.assertEqual(busy.read_reply(), ACCEPTED)
        self.assertEqual(busy.read_until_closed(), SHUTTING_DOWN)
        self.assertEqual(self.wait_for_exit(), 0)
        self.assertEqual(len(self.server.mail_files("alice")), 1)

    def test_sigint_exits_zero(self):
        client = self.connect("smtp")
        client.ehlo()
        self.signal_server(signal.SIGINT)
        self.assertEqual(client.read_until_closed(), SHUTTING_DOWN)
        self.assertEqual(self.wait_for_exit(), 0)

    def test_log_records_stop(self):
        self.signal_server()
        self.assertEqual(self.wait_for_exit(), 0)
        log = self.server.log_text()
        self.assertIn("event=stopping", log)
        self.assertTrue(log.rstrip("\n").endswith("event=stopped"), log)


if __name__ == "__main__":
    unittest.main()
