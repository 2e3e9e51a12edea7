"""Command syntax and sequence (RFC 5321, sections 4.1 to 4.3): line
limits, unknown commands, bad paths and parameters, out-of-order
commands, VRFY, HELP, QUIT and the error limit."""

import unittest

import harness

OK = b"250 2.0.0 OK\r\n"
SENDER_OK = b"250 2.1.0 Sender OK\r\n"
LINE_TOO_LONG = b"500 5.5.6 Line too long\r\n"
UNRECOGNIZED = b"500 5.5.1 Command unrecognized\r\n"
CLOSING = b"221 2.0.0 mail.test closing connection\r\n"


class SyntaxTestCase(harness.SmtpTestCase):
    def open(self):
        client = self.connect("smtp")
        client.ehlo()
        return client


class LineLengthTests(SyntaxTestCase):
    def test_512_octets_accepted(self):
        # RFC 5321, section 4.5.3.1.4: 512 octets with the CRLF.
        client = self.open()
        line = "NOOP " + "x" * 505
        self.assertEqual(len(line) + 2, 512)
        self.assertEqual(client.command(line), OK)

    def test_513_octets_rejected(self):
        client = self.open()
        self.assertEqual(client.command("NOOP " + "x" * 506), LINE_TOO_LONG)
        self.assertEqual(client.command("NOOP"), OK)

    def test_long_mail_command_rejected(self):
        client = self.open()
        address = "a" * 600 + "@example.org"
        self.assertEqual(client.command(f"MAIL FROM:<{address}>"),
                         LINE_TOO_LONG)
        # The rejected MAIL did not start a transaction.
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"503 5.5.1 Need MAIL command\r\n")

    def test_line_past_read_buffer_one_reply(self):
        client = self.open()
        client.send(b"NOOP " + b"x" * 100000 + b"\r\nNOOP\r\n")
        self.assertEqual(client.read_replies(2), [LINE_TOO_LONG, OK])
        self.assertEqual(client.read_available(0.3), b"")


class CommandTests(SyntaxTestCase):
    def test_unknown_commands(self):
        client = self.open()
        for line in ("FOO", "MAILFROM:<a@b.example>", "X-SECRET debug",
                     "EXPNX", "\tNOOP"):
            with self.subTest(line=line):
                self.assertEqual(client.command(line), UNRECOGNIZED)

    def test_empty_line(self):
        client = self.open()
        self.assertEqual(client.command(""), UNRECOGNIZED)

    def test_commands_case_insensitive(self):
        client = self.open()
        self.assertEqual(client.command("noop"), OK)
        self.assertEqual(client.command("Mail From:<a@b.example>"), SENDER_OK)
        self.assertEqual(client.command("rcpt to:<alice@mail.test>"),
                         b"250 2.1.5 Recipient OK\r\n")
        self.assertEqual(client.command("rset"), b"250 2.0.0 Reset OK\r\n")

    def test_bad_sender_syntax(self):
        cases = [
            ("no brackets", "MAIL FROM:alice@mail.test"),
            ("no FROM", "MAIL <alice@mail.test>"),
            ("no closing bracket", "MAIL FROM:<alice@mail.test"),
            ("no domain", "MAIL FROM:<alice@>"),
            ("nothing", "MAIL"),
        ]
        client = self.open()
        for label, line in cases:
            with self.subTest(label):
                self.assertEqual(
                    client.command(line),
                    b"501 5.1.7 Invalid sender address syntax\r\n")

    def test_bad_recipient_syntax(self):
        cases = [
            ("no brackets", "RCPT TO:alice@mail.test"),
            ("no TO", "RCPT <alice@mail.test>"),
            ("empty path", "RCPT TO:<>"),
            ("nothing", "RCPT"),
        ]
        client = self.open()
        self.assertEqual(client.command("MAIL FROM:<a@b.example>"), SENDER_OK)
        for label, line in cases:
            with self.subTest(label):
                self.assertEqual(
                    client.command(line),
                    b"501 5.1.3 Invalid recipient address syntax\r\n")

    def test_unsupported_parameter(self):
        client = self.open()
        self.assertEqual(client.command("MAIL FROM:<a@b.example> FOO=bar"),
                         b"555 5.5.4 Unsupported MAIL or RCPT parameter\r\n")

    def test_body_parameters(self):
        client = self.open()
        for value in ("7BIT", "8BITMIME"):
            with self.subTest(value=value):
                self.assertEqual(
                    client.command(f"MAIL FROM:<a@b.example> BODY={value}"),
                    SENDER_OK)
                client.command("RSET")

    def test_vrfy(self):
        client = self.open()
        reply = (b"252 2.5.0 Cannot VRFY user, but will accept message for "
                 b"delivery\r\n")
        self.assertEqual(client.command("VRFY alice"), reply)
        # The same reply for an account that does not exist, so VRFY
        # reveals nothing about which users exist.
        self.assertEqual(client.command("VRFY nobody"), reply)
        self.assertEqual(
            client.command("VRFY"),
            b"501 5.5.4 Syntax error in parameters or arguments\r\n")

    def test_expn_not_implemented(self):
        client = self.open()
        self.assertEqual(client.command("EXPN staff"),
                         b"502 5.5.1 Command not implemented\r\n")

    def test_help(self):
        client = self.open()
        self.assertEqual(
            client.command("HELP"),
            b"214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT "
            b"VRFY HELP STARTTLS AUTH\r\n")

    def test_noop_with_argument(self):
        # RFC 5321, section 4.1.1.9: NOOP may carry a string, which is
        # ignored.
        client = self.open()
        self.assertEqual(client.command("NOOP anything at all"), OK)

    def test_rset_and_data_take_no_argument(self):
        client = self.open()
        no_parameters = b"501 5.5.4 Syntax error, no parameters allowed\r\n"
        self.assertEqual(client.command("RSET now"), no_parameters)
        self.assertEqual(client.command("DATA now"), no_parameters)


class SequenceTests(SyntaxTestCase):
    def test_before_ehlo(self):
        client = self.connect("smtp")
        hello_first = b"503 5.5.1 Send EHLO or HELO first\r\n"
        self.assertEqual(client.command("MAIL FROM:<a@b.example>"),
                         hello_first)
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         hello_first)
        self.assertEqual(client.command("DATA"), hello_first)
        # Commands outside a transaction need no EHLO.
        self.assertEqual(client.command("NOOP"), OK)
        self.assertEqual(client.command("RSET"), b"250 2.0.0 Reset OK\r\n")

    def test_rcpt_before_mail(self):
        client = self.open()
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"503 5.5.1 Need MAIL command\r\n")

    def test_data_before_mail(self):
        client = self.open()
        self.assertEqual(client.command("DATA"),
                         b"503 5.5.1 Need MAIL command\r\n")

    def test_data_before_rcpt(self):
        client = self.open()
        self.assertEqual(client.command("MAIL FROM:<a@b.example>"), SENDER_OK)
        self.assertEqual(client.command("DATA"),
                         b"503 5.5.1 Need RCPT command\r\n")

    def test_nested_mail(self):
        client = self.open()
        self.assertEqual(client.command("MAIL FROM:<a@b.example>"), SENDER_OK)
        self.assertEqual(client.command("MAIL FROM:<c@d.example>"),
                         b"503 5.5.1 Sender already specified\r\n")

    def test_ehlo_resets_transaction(self):
        # RFC 5321, section 4.1.4: EHLO in a transaction acts as RSET.
        client = self.open()
        self.assertEqual(client.command("MAIL FROM:<a@b.example>"), SENDER_OK)
        client.ehlo()
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"503 5.5.1 Need MAIL command\r\n")

    def test_rset_ends_transaction(self):
        client = self.open()
        self.assertEqual(client.command("MAIL FROM:<a@b.example>"), SENDER_OK)
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"250 2.1.5 Recipient OK\r\n")
        self.assertEqual(client.command("RSET"), b"250 2.0.0 Reset OK\r\n")
        self.assertEqual(client.command("DATA"),
                         b"503 5.5.1 Need MAIL command\r\n")


class QuitTests(SyntaxTestCase):
    def test_quit_closes(self):
        client = self.open()
        client.send(b"QUIT\r\n")
        self.assertEqual(client.read_until_closed(), CLOSING)

    def test_quit_before_ehlo(self):
        client = self.connect("smtp")
        client.send(b"QUIT\r\n")
        self.assertEqual(client.read_until_closed(), CLOSING)

    def test_commands_after_quit_ignored(self):
        client = self.open()
        client.send(b"QUIT\r\nNOOP\r\nNOOP\r\n")
        self.assertEqual(client.read_until_closed(), CLOSING)

    def test_quit_ends_transaction_unstored(self):
        client = self.open()
        self.assertEqual(client.command("MAIL FROM:<a@b.example>"), SENDER_OK)
        self.assertEqual(client.command("RCPT TO:<alice@mail.test>"),
                         b"250 2.1.5 Recipient OK\r\n")
        client.send(b"QUIT\r\n")
        self.assertEqual(client.read_until_closed(), CLOSING)
        self.assertEqual(self.server.mail_files("alice"), [])

    def test_quit_over_tls(self):
        client = self.connect("submissions")
        client.ehlo()
        client.send(b"QUIT\r\n")
        self.assertEqual(client.read_until_closed(), CLOSING)


class ErrorLimitTests(SyntaxTestCase):
    def test_twentieth_error_closes(self):
        client = self.open()
        for count in range(19):
            with self.subTest(error=count + 1):
                self.assertEqual(client.command("FOO"), UNRECOGNIZED)
        client.send(b"FOO\r\n")
        too_many = b"421 4.7.0 Too many errors, closing connection\r\n"
        self.assertEqual(client.read_until_closed(), UNRECOGNIZED + too_many)

    def test_good_commands_do_not_count(self):
        client = self.open()
        for _ in range(19):
            self.assertEqual(client.command("FOO"), UNRECOGNIZED)
            self.assertEqual(client.command("NOOP"), OK)
        self.assertEqual(client.command("NOOP"), OK)


if __name__ == "__main__":
    unittest.main()
