"""Command syntax and sequence errors (RFC 1939, sections 3 to 7), the
255-octet command line of RFC 2449, section 4, PIPELINING, and the limit
on errors per connection."""

import unittest

import pop3_support
from harness import read_bytes
from pop3_support import (NO_SUCH_MESSAGE, SEND_PASS, SIGN_OFF,
                          SYNTAX_ERROR, WRONG_STATE)

UNKNOWN_COMMAND = b"-ERR Unknown command\r\n"
LINE_TOO_LONG = b"-ERR Line too long\r\n"
TOO_MANY_ERRORS = b"-ERR Too many errors, closing connection\r\n"

TRANSACTION_COMMANDS = ("STAT", "LIST", "LIST 1", "UIDL", "UIDL 1",
                        "RETR 1", "TOP 1 0", "DELE 1", "RSET", "NOOP")
AUTHORIZATION_COMMANDS = ("USER alice", "PASS correct horse",
                          "APOP alice 0123456789abcdef0123456789abcdef",
                          "AUTH", "AUTH PLAIN", "STLS")


class UnknownCommandTests(pop3_support.Pop3TestCase):
    def test_unknown(self):
        client = self.connect("pop3")
        for line in ("FOO", "HELO client.test", "EHLO client.test",
                     "STATUS", "RETRIEVE 1", "", " STAT"):
            with self.subTest(line=line):
                self.assertEqual(client.command(line), UNKNOWN_COMMAND)

    def test_unknown_in_transaction(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("XTND XMIT"), UNKNOWN_COMMAND)
        self.assertEqual(client.command("STAT"), b"+OK 0 0\r\n")

    def test_too_many_errors_close(self):
        client = self.connect("pop3")
        for _ in range(19):
            self.assertEqual(client.command("FOO"), UNKNOWN_COMMAND)
        client.send(b"FOO\r\n")
        self.assertEqual(client.read_until_closed(),
                         UNKNOWN_COMMAND + TOO_MANY_ERRORS)


class LineLengthTests(pop3_support.Pop3TestCase):
    def test_300_octets(self):
        client = self.connect("pop3s")
        line = b"NOOP " + b"x" * 293 + b"\r\n"
        self.assertEqual(len(line), 300)
        client.send(line)
        self.assertEqual(client.read_line(), LINE_TOO_LONG)
        self.assertEqual(client.multiline("CAPA"),
                         pop3_support.CAPA_ENCRYPTED)

    def test_255_octets_accepted(self):
        client = self.connect("pop3s")
        line = b"USER " + b"a" * 248 + b"\r\n"
        self.assertEqual(len(line), 255)
        client.send(line)
        self.assertEqual(client.read_line(), SEND_PASS)

    def test_256_octets_too_long(self):
        client = self.connect("pop3s")
        line = b"USER " + b"a" * 249 + b"\r\n"
        self.assertEqual(len(line), 256)
        client.send(line)
        self.assertEqual(client.read_line(), LINE_TOO_LONG)

    def test_very_long_line_skipped(self):
        # The server discards the rest of an overlong line and responds
        # to the next one.
        client = self.connect("pop3s")
        client.send(b"x" * 100000 + b"\r\nNOOP\r\n")
        self.assertEqual(client.read_line(), LINE_TOO_LONG)
        self.assertEqual(client.read_line(), WRONG_STATE)
        self.assertEqual(client.read_available(0.5), b"")

    def test_long_line_in_transaction(self):
        client = self.open_session("alice")
        client.send(b"RETR " + b"1" * 300 + b"\r\n")
        self.assertEqual(client.read_line(), LINE_TOO_LONG)
        self.assertEqual(client.command("NOOP"), b"+OK\r\n")


class StateTests(pop3_support.Pop3TestCase):
    def test_transaction_commands_before_login(self):
        client = self.connect("pop3")
        for line in TRANSACTION_COMMANDS:
            with self.subTest(line=line):
                self.assertEqual(client.command(line), WRONG_STATE)

    def test_authorization_commands_after_login(self):
        client = self.open_session("alice")
        for line in AUTHORIZATION_COMMANDS:
            with self.subTest(line=line):
                self.assertEqual(client.command(line), WRONG_STATE)
        self.assertEqual(client.command("STAT"), b"+OK 0 0\r\n")

    def test_quit_in_authorization(self):
        client = self.connect("pop3")
        client.send(b"QUIT\r\n")
        self.assertEqual(client.read_until_closed(), SIGN_OFF)

    def test_quit_after_failed_login(self):
        client = self.connect("pop3s")
        client.login("alice", "wrong horse")
        client.send(b"QUIT\r\n")
        self.assertEqual(client.read_until_closed(), SIGN_OFF)

    def test_poplib_quit_in_authorization(self):
        pop = self.poplib_connect("pop3", stls=False)
        self.assertEqual(pop.quit(), SIGN_OFF.rstrip(b"\r\n"))

    def test_noop(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("NOOP"), b"+OK\r\n")
        self.assertEqual(client.command("noop"), b"+OK\r\n")
        self.assertEqual(client.command("NOOP x"), SYNTAX_ERROR)

    def test_stat_with_argument(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("STAT 1"), SYNTAX_ERROR)


class MessageNumberTests(pop3_support.Pop3TestCase):
    def setUp(self):
        super().setUp()
        self.deliver("alice", pop3_support.simple_message("only"))

    def test_retr(self):
        client = self.open_session("alice")
        cases = (
            ("zero", "RETR 0", SYNTAX_ERROR),
            ("letters", "RETR abc", SYNTAX_ERROR),
            ("missing", "RETR", SYNTAX_ERROR),
            ("negative", "RETR -1", SYNTAX_ERROR),
            ("plus sign", "RETR +1", SYNTAX_ERROR),
            ("two numbers", "RETR 1 2", SYNTAX_ERROR),
            ("trailing space", "RETR 1 ", SYNTAX_ERROR),
            ("beyond last", "RETR 99", NO_SUCH_MESSAGE),
            ("just beyond last", "RETR 2", NO_SUCH_MESSAGE),
            ("ten digits", "RETR 1234567890", SYNTAX_ERROR),
        )
        for label, line, expected in cases:
            with self.subTest(label):
                self.assertEqual(client.command(line), expected)
        self.assertTrue(client.command("RETR 1").startswith(b"+OK "))

    def test_other_commands(self):
        client = self.open_session("alice")
        cases = (
            ("LIST zero", "LIST 0", SYNTAX_ERROR),
            ("LIST letters", "LIST abc", SYNTAX_ERROR),
            ("LIST beyond", "LIST 99", NO_SUCH_MESSAGE),
            ("UIDL zero", "UIDL 0", SYNTAX_ERROR),
            ("UIDL beyond", "UIDL 99", NO_SUCH_MESSAGE),
            ("TOP zero", "TOP 0 1", SYNTAX_ERROR),
            ("TOP beyond", "TOP 99 1", NO_SUCH_MESSAGE),
            ("TOP negative lines", "TOP 1 -1", SYNTAX_ERROR),
            ("DELE zero", "DELE 0", SYNTAX_ERROR),
            ("DELE beyond", "DELE 99", NO_SUCH_MESSAGE),
        )
        for label, line, expected in cases:
            with self.subTest(label):
                self.assertEqual(client.command(line), expected)


class PipeliningTests(pop3_support.Pop3TestCase):
    def test_commands_in_one_write(self):
        path = self.deliver("alice", pop3_support.simple_message("piped"))
        size = len(pop3_support.wire_form(read_bytes(path)))
        unique_id = pop3_support.unique_id_of(path)
        client = self.connect("pop3s")
        client.send(b"USER alice\r\nPASS correct horse\r\nSTAT\r\n"
                    b"LIST\r\nUIDL 1\r\nNOOP\r\nFOO\r\nQUIT\r\n")
        self.assertEqual(
            client.read_until_closed(),
            SEND_PASS +
            pop3_support.maildrop_summary(1, size) +
            f"+OK 1 {size}\r\n".encode() +
            pop3_support.maildrop_summary(1, size) +
            f"1 {size}\r\n.\r\n".encode() +
            f"+OK 1 {unique_id}\r\n".encode() +
            b"+OK\r\n" +
            UNKNOWN_COMMAND +
            b"+OK Postern POP3 server signing off (1 message left)\r\n")

    def test_retrieval_in_one_write(self):
        path = self.deliver("alice", pop3_support.simple_message(
            "piped", ".dotted\r\n"))
        wire = pop3_support.wire_form(read_bytes(path))
        header = wire[:wire.index(b"\r\n\r\n") + 4]
        client = self.connect("pop3s")
        client.send(b"USER alice\r\nPASS correct horse\r\nRETR 1\r\n"
                    b"TOP 1 0\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n")
        retrieved = (f"+OK {len(wire)} octets\r\n".encode() +
                     pop3_support.stuffed(wire) + b".\r\n")
        self.assertEqual(
            client.read_until_closed(),
            SEND_PASS +
            pop3_support.maildrop_summary(1, len(wire)) +
            retrieved +
            b"+OK Top of message follows\r\n" + header + b".\r\n" +
            retrieved +
            b"+OK Message 1 deleted\r\n" +
            b"+OK Postern POP3 server signing off (0 messages left)\r\n")
        self.assertEqual(self.message_files("alice"), [])

    def test_nothing_after_quit(self):
        client = self.connect("pop3s")
        client.send(b"QUIT\r\nCAPA\r\nNOOP\r\n")
        self.assertEqual(client.read_until_closed(), SIGN_OFF)


if __name__ == "__main__":
    unittest.main()
