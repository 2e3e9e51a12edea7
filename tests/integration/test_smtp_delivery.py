"""Local delivery into Maildir: the stored bytes, the trace headers
(RFC 5321, section 4.4), the file name, 8BITMIME (RFC 6152), dot-stuffing
(RFC 5321, section 4.5.2) and recipient checks."""

import base64
import email
import email.policy
import email.utils
import os
import smtplib
import time
import unittest

import harness
from harness import read_bytes

PASSWORD = "correct horse"

# The maximum line length of RFC 5321, section 4.5.3.1.6: 998 octets + CRLF.
LONG_LINE = ("0123456789" * 100)[:998]
TEXT_PART = "Grüße aus Köln, ☃ und 日本語."
ATTACHMENT = bytes(range(256))


def multipart_message():
    """A MIME multipart message with CRLF line endings: an 8-bit UTF-8 text
    part with lines that begin with a dot, a 998-octet line, and a base64
    part."""
    encoded = base64.encodebytes(ATTACHMENT).decode("ascii")
    encoded = encoded.replace("\n", "\r\n")
    text = (
        "From: Alice <alice@mail.test>\r\n"
        "To: Alice <alice@mail.test>\r\n"
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
        "Message-ID: <multipart.1@client.test>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"=-part-=\"\r\n"
        "\r\n"
        "This is a multi-part message in MIME format.\r\n"
        "--=-part-=\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"{TEXT_PART}\r\n"
        ".a line that begins with a dot\r\n"
        "..a line that begins with two dots\r\n"
        ".\r\n"
        "\r\n"
        f"{LONG_LINE}\r\n"
        "--=-part-=\r\n"
        "Content-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        f"{encoded}"
        "--=-part-=--\r\n"
    )
    return text.encode("utf-8")


def with_lf(message):
    return message.replace(b"\r\n", b"\n")


class DeliveryTestCase(harness.SmtpTestCase):
    def assert_one_delivery(self, user):
        """Check that `user` has exactly one message, in new/, and nothing
        in tmp/ or cur/; return its path and bytes."""
        files = self.server.mail_files(user, "new")
        self.assertEqual(len(files), 1, files)
        self.assertEqual(self.server.mail_files(user, "tmp"), [])
        self.assertEqual(self.server.mail_files(user, "cur"), [])
        return files[0], read_bytes(files[0])

    def assert_maildir_name(self, path, contents):
        name = os.path.basename(path)
        match = harness.MAILDIR_NAME.fullmatch(name)
        self.assertIsNotNone(match, name)
        self.assertEqual(int(match["pid"]), self.server.process.pid)
        self.assertLess(int(match["microseconds"]), 1_000_000)
        self.assertLess(abs(int(match["seconds"]) - time.time()), 120)
        self.assertEqual(int(match["size"]), os.path.getsize(path))
        self.assertEqual(int(match["size"]), len(contents))
        self.assertEqual(int(match["wire_size"]),
                         len(contents) + contents.count(b"\n"))

    def assert_recent_date(self, text):
        when = email.utils.parsedate_to_datetime(text)
        self.assertLess(abs(when.timestamp() - time.time()), 120, text)

    def split_trace(self, contents, return_path, pattern):
        """Check the Return-Path and Received headers at the top of a
        stored message; return the Received match and the bytes after
        them."""
        head = f"Return-Path: <{return_path}>\n".encode("ascii")
        self.assertTrue(contents.startswith(head), contents[:200])
        rest = contents[len(head):].decode("utf-8")
        match = pattern.match(rest)
        self.assertIsNotNone(match, rest[:600])
        self.assert_recent_date(match["date"])
        return match, rest[match.end():].encode("utf-8")


class SubmissionDeliveryTests(DeliveryTestCase):
    """STARTTLS, AUTH PLAIN and a message sent with smtplib."""

    def open_smtplib(self):
        client = smtplib.SMTP("127.0.0.1", self.server.port("submission"),
                              local_hostname=harness.CLIENT_NAME,
                              timeout=harness.SOCKET_TIMEOUT)
        self.addCleanup(client.close)
        code, _ = client.starttls(context=harness.client_tls_context())
        self.assertEqual(code, 220)
        client.ehlo(harness.CLIENT_NAME)
        client.user, client.password = "alice", PASSWORD
        self.assertEqual(client.auth("PLAIN", client.auth_plain),
                         (235, b"2.7.0 Authentication successful"))
        return client

    def send(self, client, message, recipients=("alice@mail.test",),
             options=("BODY=8BITMIME",)):
        self.assertEqual(client.mail("alice@mail.test", list(options)),
                         (250, b"2.1.0 Sender OK"))
        for recipient in recipients:
            self.assertEqual(client.rcpt(recipient),
                             (250, b"2.1.5 Recipient OK"))
        self.assertEqual(client.data(message),
                         (250, b"2.0.0 Message accepted for delivery"))

    def test_multipart_stored_exactly(self):
        client = self.open_smtplib()
        message = multipart_message()
        self.send(client, message,
                  options=("BODY=8BITMIME", f"SIZE={len(message)}"))
        tls = client.sock.cipher()
        tls = (client.sock.version(), tls[0], tls[2])
        self.assertEqual(client.quit(),
                         (221, b"2.0.0 mail.test closing connection"))

        path, contents = self.assert_one_delivery("alice")
        pattern = harness.received_pattern(
            "ESMTPSA", tls=tls, user="alice", recipient="alice@mail.test")
        match, body = self.split_trace(contents, "alice@mail.test", pattern)
        self.assertRegex(match["id"], r"^[0-9a-f]+\.1$")
        self.assertEqual(body, with_lf(message))
        self.assert_maildir_name(path, contents)

    def test_dots_unstuffed_on_disk(self):
        client = self.open_smtplib()
        self.send(client, multipart_message())
        _, contents = self.assert_one_delivery("alice")
        lines = contents.split(b"\n")
        self.assertIn(b".a line that begins with a dot", lines)
        self.assertIn(b"..a line that begins with two dots", lines)
        self.assertIn(b".", lines)
        self.assertNotIn(b"...a line that begins with two dots", lines)

    def test_long_line_kept_whole(self):
        client = self.open_smtplib()
        self.send(client, multipart_message())
        _, contents = self.assert_one_delivery("alice")
        self.assertIn(b"\n" + LONG_LINE.encode("ascii") + b"\n", contents)

    def test_mime_parts_decode(self):
        client = self.open_smtplib()
        self.send(client, multipart_message())
        _, contents = self.assert_one_delivery("alice")
        parsed = email.message_from_bytes(contents,
                                          policy=email.policy.default)
        self.assertEqual(parsed["Subject"], "Grüße")
        self.assertEqual(parsed["Return-Path"], "<alice@mail.test>")
        parts = list(parsed.iter_parts())
        self.assertEqual(len(parts), 2)
        self.assertTrue(parts[0].get_content().startswith(TEXT_PART + "\n"))
        self.assertEqual(parts[1].get_content(), ATTACHMENT)

    def test_two_messages_numbered(self):
        client = self.open_smtplib()
        self.send(client, b"Subject: one\r\n\r\nfirst\r\n")
        self.send(client, b"Subject: two\r\n\r\nsecond\r\n")
        files = self.server.mail_files("alice")
        self.assertEqual(len(files), 2)
        ids = []
        for path in files:
            contents = read_bytes(path)
            pattern = harness.received_pattern(
                "ESMTPSA", tls=(client.sock.version(), client.sock.cipher()[0],
                                client.sock.cipher()[2]),
                user="alice", recipient="alice@mail.test")
            match, _ = self.split_trace(contents, "alice@mail.test", pattern)
            ids.append(match["id"])
        session = {identifier.split(".")[0] for identifier in ids}
        self.assertEqual(len(session), 1, ids)
        self.assertEqual(sorted(identifier.split(".")[1]
                                for identifier in ids), ["1", "2"])

    def test_two_recipients_one_copy_each(self):
        client = self.open_smtplib()
        message = b"Subject: both\r\n\r\nFor Alice and Bob.\r\n"
        self.send(client, message,
                  recipients=("alice@mail.test", "bob@mail.test"))
        # With two recipients the header names neither, so that one
        # copy does not disclose the other recipient.
        tls = (client.sock.version(), client.sock.cipher()[0],
               client.sock.cipher()[2])
        pattern = harness.received_pattern("ESMTPSA", tls=tls, user="alice")
        identifiers = []
        for user in ("alice", "bob"):
            with self.subTest(user=user):
                _, contents = self.assert_one_delivery(user)
                match, body = self.split_trace(contents, "alice@mail.test",
                                               pattern)
                self.assertEqual(body, with_lf(message))
                self.assertNotIn(b"for <", contents)
                identifiers.append(match["id"])
        self.assertEqual(identifiers[0], identifiers[1])

    def test_same_user_twice_one_copy(self):
        client = self.open_smtplib()
        self.send(client, b"Subject: once\r\n\r\nOne copy.\r\n",
                  recipients=("alice@mail.test", "ALICE@localhost"))
        self.assert_one_delivery("alice")


class ClearDeliveryTests(DeliveryTestCase):
    """Unauthenticated delivery to a local account without TLS."""

    def transaction(self, client, recipient="alice@mail.test",
                    message=b"Subject: clear\r\n\r\nNo TLS here.\r\n"):
        self.assertEqual(client.command("MAIL FROM:<sender@example.org>"),
                         b"250 2.1.0 Sender OK\r\n")
        self.assertEqual(client.command(f"RCPT TO:<{recipient}>"),
                         b"250 2.1.5 Recipient OK\r\n")
        self.assertEqual(client.command("DATA"),
                         b"354 End data with <CR><LF>.<CR><LF>\r\n")
        client.send(message + b".\r\n")
        self.assertEqual(client.read_reply(),
                         b"250 2.0.0 Message accepted for delivery\r\n")

    def test_ehlo_trace_says_esmtp(self):
        client = self.connect("smtp")
        client.ehlo()
        message = b"Subject: clear\r\n\r\nNo TLS here.\r\n"
        self.transaction(client, message=message)
        path, contents = self.assert_one_delivery("alice")
        pattern = harness.received_pattern("ESMTP",
                                           recipient="alice@mail.test")
        _, body = self.split_trace(contents, "sender@example.org", pattern)
        self.assertEqual(body, with_lf(message))
        self.assert_maildir_name(path, contents)

    def test_helo_trace_says_smtp(self):
        client = self.connect("smtp")
        self.assertEqual(client.command("HELO client.test"),
                         b"250 mail.test\r\n")
        self.transaction(client)
        _, contents = self.assert_one_delivery("alice")
        pattern = harness.received_pattern("SMTP",
                                           recipient="alice@mail.test")
        self.split_trace(contents, "sender@example.org", pattern)

    def test_starttls_trace_says_esmtps(self):
        client = self.connect("smtp")
        client.secure()
        self.transaction(client)
        _, contents = self.assert_one_delivery("alice")
        cipher = client.tls_cipher()
        pattern = harness.received_pattern(
            "ESMTPS", tls=(client.tls_version(), cipher[0], cipher[2]),
            recipient="alice@mail.test")
        self.split_trace(contents, "sender@example.org", pattern)

    def test_null_sender_return_path(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command("MAIL FROM:<>"),
                         b"250 2.1.0 Sender OK\r\n")
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"250 2.1.5 Recipient OK\r\n")
        self.assertEqual(client.command("DATA"),
                         b"354 End data with <CR><LF>.<CR><LF>\r\n")
        client.send(b"Subject: bounce\r\n\r\nA bounce.\r\n.\r\n")
        self.assertEqual(client.read_reply(),
                         b"250 2.0.0 Message accepted for delivery\r\n")
        _, contents = self.assert_one_delivery("alice")
        self.assertTrue(contents.startswith(b"Return-Path: <>\nReceived: "),
                        contents[:100])

    def test_unknown_user_rejected(self):
        client = self.connect("smtp")
        client.ehlo()
        self.assertEqual(client.command("MAIL FROM:<sender@example.org>"),
                         b"250 2.1.0 Sender OK\r\n")
        for recipient in ("nobody@mail.test", "nobody@localhost",
                          "carol@MAIL.TEST"):
            with self.subTest(recipient=recipient):
                self.assertEqual(
                    client.command(f"RCPT TO:<{recipient}>"),
                    b"550 5.1.1 Mailbox unavailable: user unknown\r\n")
        self.assertFalse(os.path.exists(self.server.maildir("nobody")))
        self.assertFalse(os.path.exists(self.server.maildir("carol")))

    def test_postmaster_always_accepted(self):
        # RFC 5321, section 4.5.1: postmaster is accepted with or without
        # a domain, even though no account of that name was added.
        client = self.connect("smtp")
        client.ehlo()
        recipients = ("Postmaster", "postmaster@mail.test",
                      "POSTMASTER@localhost")
        for recipient in recipients:
            with self.subTest(recipient=recipient):
                self.transaction(client, recipient=recipient)
        self.assertEqual(len(self.server.mail_files("postmaster")),
                         len(recipients))

    def test_quoted_local_part(self):
        # RFC 5321, section 4.1.2: "alice" and alice name one mailbox.
        client = self.connect("smtp")
        client.ehlo()
        self.transaction(client, recipient='"alice"@mail.test')
        self.assert_one_delivery("alice")

    def test_user_name_case_insensitive(self):
        cases = [
            ("upper user", "ALICE@mail.test"),
            ("mixed user and domain", "Alice@Mail.Test"),
            ("localhost domain", "aLiCe@LOCALHOST"),
        ]
        client = self.connect("smtp")
        client.ehlo()
        for label, recipient in cases:
            with self.subTest(label):
                self.transaction(client, recipient=recipient)
        self.assertEqual(len(self.server.mail_files("alice")), len(cases))
        self.assertEqual(self.server.mail_files("alice", "tmp"), [])
        mail_root = os.path.join(self.server.data_dir, "mail")
        self.assertEqual(sorted(os.listdir(mail_root)), ["alice"])


if __name__ == "__main__":
    unittest.main()
