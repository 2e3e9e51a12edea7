"""Relay control: who may send to a domain that is not local, and the
queue file of a relayed message (envelope lines, then the message)."""

import os
import re
import unittest

import harness
from harness import read_bytes

PASSWORD = "correct horse"
MESSAGE = b"Subject: relay\r\n\r\nTo another domain.\r\n"
RELAY_DENIED = b"554 5.7.1 Relaying denied\r\n"
RECIPIENT_OK = b"250 2.1.5 Recipient OK\r\n"
QUEUE_NAME = re.compile(r"\d+\.M\d+P\d+Q\d+\.mail\.test")
ENVELOPE = b"MAIL FROM:<alice@mail.test>\nRCPT TO:<bob@example.org>\n\n"


class RelayTestCase(harness.SmtpTestCase):
    def begin(self, client, sender="alice@mail.test"):
        self.assertEqual(client.command(f"MAIL FROM:<{sender}>"),
                         b"250 2.1.0 Sender OK\r\n")

    def finish(self, client, message=MESSAGE):
        self.assertEqual(client.command("DATA"),
                         b"354 End data with <CR><LF>.<CR><LF>\r\n")
        client.send(message + b".\r\n")
        self.assertEqual(client.read_reply(),
                         b"250 2.0.0 Message accepted for delivery\r\n")

    def relay_one(self, client, recipient="bob@example.org"):
        self.begin(client)
        self.assertEqual(client.command(f"RCPT TO:<{recipient}>"),
                         RECIPIENT_OK)
        self.finish(client)

    def assert_queue_empty(self):
        self.assertEqual(self.server.queue_files("new"), [])
        self.assertEqual(self.server.queue_files("tmp"), [])

    def assert_one_queued(self):
        """Check that the queue contains exactly one whole file; return its
        bytes."""
        files = self.server.queue_files("new")
        self.assertEqual(len(files), 1, files)
        self.assertEqual(self.server.queue_files("tmp"), [])
        self.assertRegex(os.path.basename(files[0]), QUEUE_NAME)
        return read_bytes(files[0])

    def split_queue_file(self, contents, envelope, pattern):
        """Check the envelope lines and the Received header of a queue
        file; return the message after them."""
        self.assertTrue(contents.startswith(envelope), contents[:300])
        rest = contents[len(envelope):].decode("utf-8")
        match = pattern.match(rest)
        self.assertIsNotNone(match, rest[:600])
        return rest[match.end():].encode("utf-8")


class UntrustedRelayTests(RelayTestCase):
    def test_clear_client_denied(self):
        client = self.connect("smtp")
        client.ehlo()
        self.begin(client, "sender@example.net")
        for recipient in ("bob@example.org", "alice@mail.test.example.org",
                          "alice@sub.mail.test", "x@[192.0.2.1]"):
            with self.subTest(recipient=recipient):
                self.assertEqual(client.command(f"RCPT TO:<{recipient}>"),
                                 RELAY_DENIED)
        self.assertEqual(client.command("DATA"),
                         b"503 5.5.1 Need RCPT command\r\n")
        self.assert_queue_empty()

    def test_tls_without_auth_denied(self):
        for listener in ("smtp", "submission", "submissions"):
            with self.subTest(listener=listener):
                client = self.connect(listener)
                if listener == "submissions":
                    client.ehlo()
                else:
                    client.secure()
                self.begin(client)
                self.assertEqual(client.command("RCPT TO:<bob@example.org>"),
                                 RELAY_DENIED)
        self.assert_queue_empty()

    def test_local_copy_only_when_relay_denied(self):
        client = self.connect("smtp")
        client.ehlo()
        self.begin(client, "sender@example.net")
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         RECIPIENT_OK)
        self.assertEqual(client.command("RCPT TO:<bob@example.org>"),
                         RELAY_DENIED)
        self.finish(client)
        self.assertEqual(len(self.server.mail_files("alice")), 1)
        self.assert_queue_empty()

    def test_auth_failure_keeps_relay_denied(self):
        client = self.connect("submission")
        client.secure()
        reply = client.command(
            f"AUTH PLAIN {harness.sasl_plain('alice', 'wrong')}")
        self.assertEqual(reply,
                         b"535 5.7.8 Authentication credentials invalid\r\n")
        self.begin(client)
        self.assertEqual(client.command("RCPT TO:<bob@example.org>"),
                         RELAY_DENIED)
        self.assert_queue_empty()


class AuthenticatedRelayTests(RelayTestCase):
    def open(self):
        client = self.connect("submission")
        client.secure()
        client.authenticate("alice", PASSWORD)
        cipher = client.tls_cipher()
        self.tls = (client.tls_version(), cipher[0], cipher[2])
        return client

    def test_queue_file_exact(self):
        client = self.open()
        self.relay_one(client)
        contents = self.assert_one_queued()
        envelope = ENVELOPE
        pattern = harness.received_pattern(
            "ESMTPSA", tls=self.tls, user="alice", recipient="bob@example.org")
        body = self.split_queue_file(contents, envelope, pattern)
        self.assertEqual(body, MESSAGE.replace(b"\r\n", b"\n"))
        self.assertFalse(os.path.exists(self.server.maildir("alice")))

    def test_local_and_relay_recipients(self):
        client = self.open()
        self.begin(client)
        for recipient in ("dave@example.org", "alice@mail.test",
                          "erin@example.net"):
            with self.subTest(recipient=recipient):
                self.assertEqual(client.command(f"RCPT TO:<{recipient}>"),
                                 RECIPIENT_OK)
        self.finish(client)

        contents = self.assert_one_queued()
        envelope = (b"MAIL FROM:<alice@mail.test>\n"
                    b"RCPT TO:<dave@example.org>\n"
                    b"RCPT TO:<erin@example.net>\n\n")
        pattern = harness.received_pattern("ESMTPSA", tls=self.tls,
                                           user="alice")
        body = self.split_queue_file(contents, envelope, pattern)
        self.assertEqual(body, MESSAGE.replace(b"\r\n", b"\n"))

        files = self.server.mail_files("alice")
        self.assertEqual(len(files), 1)
        local = read_bytes(files[0])
        self.assertTrue(local.startswith(b"Return-Path: <alice@mail.test>\n"))
        self.assertTrue(local.endswith(MESSAGE.replace(b"\r\n", b"\n")))

    def test_implicit_tls_relay(self):
        client = self.connect("submissions")
        client.ehlo()
        client.authenticate("bob", "battery staple")
        self.relay_one(client, "carol@example.org")
        contents = self.assert_one_queued()
        self.assertTrue(contents.startswith(
            b"MAIL FROM:<alice@mail.test>\nRCPT TO:<carol@example.org>\n\n"
            b"Received: "), contents[:200])
        self.assertIn(b"\t(authenticated as bob)\n", contents)


class AssumedAddressRelayTests(RelayTestCase):
    server_options = {"assumptions": [("127.0.0.1/32", "alice")]}

    def test_relay_without_auth(self):
        client = self.connect("smtp")
        client.ehlo()
        self.relay_one(client)
        contents = self.assert_one_queued()
        envelope = ENVELOPE
        self.assertTrue(contents.startswith(envelope + b"Received: "),
                        contents[:200])
        self.assertTrue(contents.endswith(MESSAGE.replace(b"\r\n", b"\n")))


class OtherNetworkAssumedTests(RelayTestCase):
    server_options = {"assumptions": [("192.0.2.0/24", "alice")]}

    def test_relay_denied_outside_network(self):
        client = self.connect("smtp")
        client.ehlo()
        self.begin(client)
        self.assertEqual(client.command("RCPT TO:<bob@example.org>"),
                         RELAY_DENIED)
        self.assert_queue_empty()


class TrustedListenerRelayTests(RelayTestCase):
    server_options = {"extra_listeners": [
        {"name": "trusted", "protocol": "smtp", "tls": "none",
         "trusted": True}]}

    def test_relay_on_trusted_listener(self):
        client = self.connect("trusted")
        client.ehlo()
        self.relay_one(client)
        contents = self.assert_one_queued()
        envelope = ENVELOPE
        pattern = harness.received_pattern("ESMTP",
                                           recipient="bob@example.org")
        body = self.split_queue_file(contents, envelope, pattern)
        self.assertEqual(body, MESSAGE.replace(b"\r\n", b"\n"))

    def test_untrusted_listener_still_denied(self):
        client = self.connect("smtp")
        client.ehlo()
        self.begin(client)
        self.assertEqual(client.command("RCPT TO:<bob@example.org>"),
                         RELAY_DENIED)
        self.assert_queue_empty()


if __name__ == "__main__":
    unittest.main()
