"""Message data after DATA (RFC 5321, section 4.1.1.4): SMTP smuggling
through bare CR or LF, the 1000-octet line limit (section 4.5.3.1.6) and
the SIZE limit (RFC 1870)."""

import unittest

import harness
from harness import read_bytes

START_DATA = b"354 End data with <CR><LF>.<CR><LF>\r\n"
ACCEPTED = b"250 2.0.0 Message accepted for delivery\r\n"
BARE_LINE_ENDING = (b"554 5.5.2 Bare CR or LF in message data, lines must "
                    b"end with CRLF\r\n")
LINE_TOO_LONG = b"554 5.6.0 Message line longer than 1000 octets\r\n"
TOO_BIG = b"552 5.3.4 Message size exceeds fixed maximum message size\r\n"

# Commands a smuggler hides in the data, hoping that this server or the
# next one ends the data at a bare line ending and runs them.
SMUGGLED = (b"MAIL FROM:<smuggler@example.org>\r\n"
            b"RCPT TO:<bob@mail.test>\r\n"
            b"DATA\r\n"
            b"Subject: smuggled\r\n"
            b"\r\n"
            b"This message must not be stored.")


class DataTestCase(harness.SmtpTestCase):
    def open(self):
        client = self.connect("smtp")
        client.ehlo()
        return client

    def start_data(self, client, recipient="alice@mail.test"):
        self.assertEqual(client.command("MAIL FROM:<sender@example.org>"),
                         b"250 2.1.0 Sender OK\r\n")
        self.assertEqual(client.command(f"RCPT TO:<{recipient}>"),
                         b"250 2.1.5 Recipient OK\r\n")
        self.assertEqual(client.command("DATA"), START_DATA)

    def send_message(self, client, body):
        """Send a message whose text after the headers is `body`, ended by
        CRLF "." CRLF, and return the reply."""
        self.start_data(client)
        client.send(b"Subject: test\r\n\r\n" + body + b"\r\n.\r\n")
        return client.read_reply()

    def assert_nothing_stored(self):
        for user in ("alice", "bob"):
            self.assertEqual(self.server.mail_files(user, "new"), [])
            self.assertEqual(self.server.mail_files(user, "tmp"), [])

    def assert_session_usable(self, client):
        """After a rejected message the transaction is gone and the next
        one works."""
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"503 5.5.1 Need MAIL command\r\n")
        self.assertEqual(client.command("NOOP"), b"250 2.0.0 OK\r\n")
        self.assertEqual(self.send_message(client, b"A good message."),
                         ACCEPTED)
        files = self.server.mail_files("alice")
        self.assertEqual(len(files), 1)
        self.assertTrue(read_bytes(files[0]).endswith(
            b"\nSubject: test\n\nA good message.\n"))


class SmugglingTests(DataTestCase):
    CASES = [
        ("LF dot CRLF", b"Hello\n.\r\n" + SMUGGLED),
        ("CRLF dot LF", b"Hello\r\n.\n" + SMUGGLED),
        ("LF dot LF", b"Hello\n.\n" + SMUGGLED),
        ("CR dot CR", b"Hello\r.\r" + SMUGGLED),
        ("CR dot CRLF", b"Hello\r.\r\n" + SMUGGLED),
        ("CRLF dot CR", b"Hello\r\n.\r" + SMUGGLED),
        ("bare LF in text", b"one\ntwo"),
        ("bare CR in text", b"one\rtwo"),
        ("bare LF in header", b"X-Header: one\ntwo\r\n\r\nbody"),
        ("bare CR before end", b"text\r"),
    ]

    def test_rejected_after_real_end(self):
        for label, body in self.CASES:
            with self.subTest(label):
                client = self.open()
                self.assertEqual(self.send_message(client, body),
                                 BARE_LINE_ENDING)
                # One reply only: a smuggled MAIL, RCPT or DATA that ran
                # would have added its own.
                self.assertEqual(client.read_available(0.3), b"")
                self.assert_nothing_stored()
                client.close()

    def test_session_usable_after_rejection(self):
        client = self.open()
        self.assertEqual(self.send_message(client, b"Hello\n.\r\n" + SMUGGLED),
                         BARE_LINE_ENDING)
        self.assert_session_usable(client)

    def test_log_records_rejection(self):
        client = self.open()
        self.send_message(client, b"Hello\r\n.\n" + SMUGGLED)
        client.command("QUIT")
        self.assertIn("event=message-rejected reason=bare-cr-or-lf",
                      self.server.log_text())


class LineLengthTests(DataTestCase):
    def test_overlong_lines_rejected(self):
        cases = [
            ("999 octets", 999),
            ("1000 octets", 1000),
            ("5000 octets", 5000),
            ("past the read buffer", 40000),
        ]
        for label, length in cases:
            with self.subTest(label):
                client = self.open()
                body = b"before\r\n" + b"x" * length + b"\r\nafter"
                self.assertEqual(self.send_message(client, body),
                                 LINE_TOO_LONG)
                self.assertEqual(client.read_available(0.3), b"")
                self.assert_nothing_stored()
                client.close()

    def test_998_octets_accepted(self):
        client = self.open()
        line = b"y" * 998
        self.assertEqual(self.send_message(client, line), ACCEPTED)
        files = self.server.mail_files("alice")
        self.assertEqual(len(files), 1)
        self.assertTrue(read_bytes(files[0]).endswith(b"\n" + line + b"\n"))

    def test_stuffed_998_octets_accepted(self):
        # RFC 5321, section 4.5.3.1.6: the 1000-octet limit does not count
        # the dot added for transparency, so a 998-octet line that begins
        # with a dot is 999 octets plus CRLF on the wire and still valid.
        client = self.open()
        line = b"." + b"z" * 997
        self.assertEqual(self.send_message(client, b"." + line), ACCEPTED)
        files = self.server.mail_files("alice")
        self.assertEqual(len(files), 1)
        self.assertTrue(read_bytes(files[0]).endswith(b"\n" + line + b"\n"))

    def test_session_usable_after_long_line(self):
        client = self.open()
        self.assertEqual(self.send_message(client, b"x" * 1200),
                         LINE_TOO_LONG)
        self.assert_session_usable(client)


class SizeLimitTests(DataTestCase):
    server_options = {"server_settings": {"max_message_size": 10000}}

    def test_declared_size_over_limit(self):
        client = self.open()
        for label, value in [("one over", "10001"),
                             ("far over", "36700160"),
                             ("past 64 bits", "99999999999999999999")]:
            with self.subTest(label):
                self.assertEqual(
                    client.command(f"MAIL FROM:<a@b.example> SIZE={value}"),
                    TOO_BIG)

    def test_declared_size_at_limit(self):
        client = self.open()
        self.assertEqual(client.command("MAIL FROM:<a@b.example> SIZE=10000"),
                         b"250 2.1.0 Sender OK\r\n")

    def test_size_keyword_case_insensitive(self):
        client = self.open()
        self.assertEqual(client.command("MAIL FROM:<a@b.example> size=10001"),
                         TOO_BIG)

    def test_invalid_size_value(self):
        client = self.open()
        for value in ("abc", "-1", "", "1e5"):
            with self.subTest(value=value):
                reply = client.command(f"MAIL FROM:<a@b.example> SIZE={value}")
                self.assertEqual(reply[:4], b"501 ", reply)

    def test_invalid_size_enhanced_code(self):
        # The sender address is valid, so the enhanced code is that of an
        # invalid argument (RFC 3463, X.5.4), not of a bad address (X.1.7).
        client = self.open()
        self.assertEqual(
            client.command("MAIL FROM:<a@b.example> SIZE=abc"),
            b"501 5.5.4 Syntax error in parameters or arguments\r\n")

    def exact_body(self, octets):
        """Return a body that makes the whole message, headers and CRLFs
        included, exactly `octets` long on the wire."""
        header = b"Subject: test\r\n\r\n"
        remaining = octets - len(header) - 2  # the CRLF of the last line
        lines = []
        while remaining > 100:
            lines.append(b"a" * 98)
            remaining -= 100
        lines.append(b"b" * remaining)
        return b"\r\n".join(lines)

    def test_data_at_limit_accepted(self):
        client = self.open()
        self.assertEqual(self.send_message(client, self.exact_body(10000)),
                         ACCEPTED)
        self.assertEqual(len(self.server.mail_files("alice")), 1)

    def test_data_over_limit_rejected(self):
        client = self.open()
        self.assertEqual(self.send_message(client, self.exact_body(10001)),
                         TOO_BIG)
        self.assertEqual(client.read_available(0.3), b"")
        self.assert_nothing_stored()
        self.assert_session_usable(client)


if __name__ == "__main__":
    unittest.main()
