"""STAT, LIST, UIDL, RETR and TOP (RFC 1939, sections 5 and 7) over mail
delivered by SMTP: sizes, byte-exact content with byte-stuffing, and
unique ids that stay the same across sessions and server restarts."""

import hashlib
import os
import unittest

import pop3_support
from harness import read_bytes
from pop3_support import stuffed, unique_id_of, wire_form

# RFC 5321, section 4.5.3.1.6: at most 998 octets before CRLF.
LONG_LINE = ("0123456789" * 100)[:998]

HEADER = ("From: Carol <carol@mail.test>\r\n"
          "To: Alice <alice@mail.test>\r\n"
          "Subject: dots and long lines\r\n")
BODY = ("\r\n"
        ".a line that begins with a dot\r\n"
        "..a line that begins with two dots\r\n"
        ".\r\n"
        "\r\n"
        f"{LONG_LINE}\r\n"
        f".{LONG_LINE[1:]}\r\n"
        "the last line\r\n")
DOTS_MESSAGE = (HEADER + BODY).encode("ascii")
SHORT_MESSAGE = pop3_support.simple_message("short", "One line.\r\n")


def header_of(wire):
    """Return the header of a CRLF message up to and including the blank
    line that ends it."""
    end = wire.index(b"\r\n\r\n") + 4
    return wire[:end]


class RetrievalTestCase(pop3_support.Pop3TestCase):
    def setUp(self):
        super().setUp()
        self.paths = [self.deliver("alice", DOTS_MESSAGE),
                      self.deliver("alice", SHORT_MESSAGE)]
        # Each message's bytes as POP3 carries them, before stuffing.
        self.wires = [wire_form(read_bytes(path)) for path in self.paths]
        self.unique_ids = [unique_id_of(path) for path in self.paths]


class SizeTests(RetrievalTestCase):
    def test_stored_body_is_submitted_body(self):
        # The Maildir file contains LF line endings, and the server adds
        # only the trace header fields in front.
        stored = read_bytes(self.paths[0])
        self.assertTrue(stored.endswith(DOTS_MESSAGE.replace(b"\r\n", b"\n")))
        self.assertIn(f"\n{LONG_LINE}\n".encode("ascii"), stored)

    def test_stat(self):
        pop = self.poplib_login("alice")
        self.assertEqual(pop.stat(), (2, sum(map(len, self.wires))))

    def test_list_sizes_match_retr(self):
        pop = self.poplib_login("alice")
        response, listing, _ = pop.list()
        self.assertEqual(response, pop3_support.maildrop_summary(
            2, sum(map(len, self.wires))).rstrip(b"\r\n"))
        self.assertEqual(listing, [f"1 {len(self.wires[0])}".encode(),
                                   f"2 {len(self.wires[1])}".encode()])
        for number, wire in enumerate(self.wires, start=1):
            with self.subTest(message=number):
                response, _, octets = pop.retr(number)
                self.assertEqual(octets, len(wire))
                self.assertEqual(response, f"+OK {len(wire)} octets".encode())

    def test_list_one(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("LIST 2"),
                         f"+OK 2 {len(self.wires[1])}\r\n".encode())

    def test_list_raw(self):
        client = self.open_session("alice")
        total = sum(map(len, self.wires))
        self.assertEqual(
            client.multiline("LIST"),
            pop3_support.maildrop_summary(2, total) +
            f"1 {len(self.wires[0])}\r\n"
            f"2 {len(self.wires[1])}\r\n.\r\n".encode())

    def test_size_in_file_name(self):
        # W= in the Maildir name is the size LIST reports.
        for path, wire in zip(self.paths, self.wires):
            self.assertIn(f",W={len(wire)}", os.path.basename(path))


class RetrTests(RetrievalTestCase):
    def test_poplib_byte_exact(self):
        pop = self.poplib_login("alice")
        for number, wire in enumerate(self.wires, start=1):
            with self.subTest(message=number):
                _, lines, _ = pop.retr(number)
                self.assertEqual(b"\r\n".join(lines) + b"\r\n", wire)

    def test_raw_stuffed(self):
        client = self.open_session("alice")
        wire = self.wires[0]
        expected = (f"+OK {len(wire)} octets\r\n".encode() + stuffed(wire) +
                    b".\r\n")
        self.assertEqual(client.multiline("RETR 1"), expected)
        self.assertIn(b"\r\n...a line that begins with two dots\r\n",
                      expected)
        self.assertIn(b"\r\n..\r\n", expected)
        self.assertIn(f"\r\n..{LONG_LINE[1:]}\r\n".encode(), expected)

    def test_retrieve_twice(self):
        pop = self.poplib_login("alice")
        first = pop.retr(1)
        self.assertEqual(pop.retr(1), first)

    def test_seen_flag_after_quit(self):
        # Maildir info ":2," for messages taken from new/, and the S flag
        # for a retrieved one, applied in the UPDATE state.
        pop = self.poplib_login("alice")
        pop.retr(2)
        pop.quit()
        names = sorted(os.path.basename(path)
                       for path in self.server.mail_files("alice", "cur"))
        self.assertEqual(self.server.mail_files("alice", "new"), [])
        self.assertEqual(names, sorted([
            os.path.basename(self.paths[0]) + ":2,",
            os.path.basename(self.paths[1]) + ":2,S"]))

    def test_no_seen_flag_without_quit(self):
        pop = self.poplib_login("alice")
        pop.retr(1)
        pop.close()
        # The server releases the lock once it notices the close.
        self.open_session_when_unlocked("alice").command("QUIT")
        names = [os.path.basename(path)
                 for path in self.server.mail_files("alice", "cur")]
        self.assertEqual(sorted(names), sorted(
            os.path.basename(path) + ":2," for path in self.paths))


class TopTests(RetrievalTestCase):
    def test_zero_lines_is_header(self):
        client = self.open_session("alice")
        header = header_of(self.wires[0])
        self.assertEqual(client.multiline("TOP 1 0"),
                         b"+OK Top of message follows\r\n" + header +
                         b".\r\n")

    def test_poplib_zero_lines(self):
        pop = self.poplib_login("alice")
        response, lines, octets = pop.top(2, 0)
        header = header_of(self.wires[1])
        self.assertEqual(response, b"+OK Top of message follows")
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", header)
        self.assertEqual(octets, len(header))

    def test_some_lines_stuffed(self):
        client = self.open_session("alice")
        header = header_of(self.wires[0])
        self.assertEqual(client.multiline("TOP 1 3"),
                         b"+OK Top of message follows\r\n" + header +
                         b"..a line that begins with a dot\r\n"
                         b"...a line that begins with two dots\r\n"
                         b"..\r\n"
                         b".\r\n")

    def test_more_lines_than_body(self):
        client = self.open_session("alice")
        wire = self.wires[1]
        self.assertEqual(client.multiline("TOP 2 100"),
                         b"+OK Top of message follows\r\n" + wire + b".\r\n")

    def test_does_not_mark_seen(self):
        client = self.open_session("alice")
        client.multiline("TOP 1 0")
        client.command("QUIT")
        client.read_until_closed()
        names = [os.path.basename(path)
                 for path in self.server.mail_files("alice", "cur")]
        self.assertNotIn(os.path.basename(self.paths[0]) + ":2,S", names)

    def test_missing_line_count(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("TOP 1"), pop3_support.SYNTAX_ERROR)
        self.assertEqual(client.command("TOP 1 x"),
                         pop3_support.SYNTAX_ERROR)
        self.assertEqual(client.command("TOP 3 0"),
                         pop3_support.NO_SUCH_MESSAGE)


class UidlTests(RetrievalTestCase):
    def uidl(self):
        pop = self.poplib_login("alice")
        _, listing, _ = pop.uidl()
        pop.quit()
        return listing

    def expected_listing(self):
        return [f"{number} {unique_id}".encode()
                for number, unique_id in enumerate(self.unique_ids, start=1)]

    def test_values_from_file_names(self):
        self.assertEqual(self.uidl(), self.expected_listing())

    def test_raw(self):
        client = self.open_session("alice")
        self.assertEqual(client.multiline("UIDL"),
                         b"+OK Unique-ID listing follows\r\n" +
                         b"".join(line + b"\r\n"
                                  for line in self.expected_listing()) +
                         b".\r\n")
        self.assertEqual(client.command("UIDL 2"),
                         f"+OK 2 {self.unique_ids[1]}\r\n".encode())

    def test_values_in_allowed_range(self):
        # RFC 1939, section 7: 1 to 70 characters in 0x21 to 0x7E.
        for unique_id in self.unique_ids:
            self.assertTrue(1 <= len(unique_id) <= 70, unique_id)
            self.assertTrue(all(0x21 <= ord(c) <= 0x7E for c in unique_id),
                            unique_id)
        self.assertEqual(len(set(self.unique_ids)), 2)

    def test_stable_across_sessions(self):
        first = self.uidl()
        pop = self.poplib_login("alice")
        pop.retr(1)
        pop.quit()
        self.assertEqual(self.uidl(), first)
        self.assertEqual(self.uidl(), first)

    def test_stable_after_restart(self):
        first = self.uidl()
        self.assertEqual(self.server.stop(), 0)
        self.server.start()
        self.assertEqual(self.uidl(), first)
        third = self.deliver("alice", SHORT_MESSAGE)
        self.assertEqual(self.uidl(), first + [
            f"3 {unique_id_of(third)}".encode()])


class LargeMessageTests(pop3_support.Pop3TestCase):
    """A message several times the server's 64 KiB read block, so that
    lines, CRLFs and byte-stuffed dots fall on block boundaries."""

    def setUp(self):
        super().setUp()
        lines = [HEADER.rstrip("\r\n").split("\r\n")[-1], ""]
        for number in range(4000):
            width = (number * 37) % 120
            prefix = "." if number % 3 == 0 else ""
            lines.append(prefix + f"{number:05d}" + "x" * width)
        message = ("\r\n".join(lines) + "\r\n").encode("ascii")
        self.assertGreater(len(message), 3 * 65536)
        self.path = self.deliver("alice", message)
        self.wire = wire_form(read_bytes(self.path))

    def test_poplib_byte_exact(self):
        pop = self.poplib_login("alice")
        self.assertEqual(pop.list(1), f"+OK 1 {len(self.wire)}".encode())
        _, lines, octets = pop.retr(1)
        self.assertEqual(octets, len(self.wire))
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", self.wire)

    def test_raw_stuffed(self):
        client = self.open_session("alice")
        self.assertEqual(client.multiline("RETR 1"),
                         f"+OK {len(self.wire)} octets\r\n".encode() +
                         stuffed(self.wire) + b".\r\n")

    def test_top_part(self):
        client = self.open_session("alice")
        header = header_of(self.wire)
        body_lines = self.wire[len(header):].split(b"\r\n")[:2500]
        expected = header + b"".join(line + b"\r\n" for line in body_lines)
        self.assertEqual(client.multiline("TOP 1 2500"),
                         b"+OK Top of message follows\r\n" +
                         stuffed(expected) + b".\r\n")


class ForeignMaildirTests(pop3_support.Pop3TestCase):
    """Files that another Maildir writer put in place: names without the
    S= and W= sizes, and contents that SMTP never delivers."""

    FILES = (
        # (folder, name, contents)
        ("new", "1700000000.M1P1.other.host",
         b"Subject: no final newline\n\n.body\nthe end"),
        ("cur", "1700000001.M1P1.other.host:2,S",
         b"Subject: seen elsewhere\n\nbody\n"),
        ("new", "1700000002.caf\u00e9.other.host",
         b"Only a header line\n"),
        ("cur", "1700000003." + "u" * 70 + ",S=9:2,",
         b"\n\nbody\n"),
    )

    def setUp(self):
        super().setUp()
        self.smtp_path = self.deliver("alice", SHORT_MESSAGE)
        for folder, name, contents in self.FILES:
            path = os.path.join(self.server.maildir("alice"), folder, name)
            with open(path, "wb") as file:
                file.write(contents)

    @staticmethod
    def expected_wire(contents):
        wire = wire_form(contents)
        return wire if wire.endswith(b"\r\n") else wire + b"\r\n"

    def test_numbered_by_delivery_time(self):
        pop = self.poplib_login("alice")
        _, listing, _ = pop.uidl()
        self.assertEqual(listing, [
            b"1 1700000000.M1P1.other.host",
            b"2 1700000001.M1P1.other.host",
            # Outside 0x21 to 0x7E, or longer than 70 octets: the hex MD5
            # of the name up to the first ',' or ':'.
            b"3 " + hashlib.md5(
                "1700000002.caf\u00e9.other.host".encode()).hexdigest()
            .encode(),
            b"4 " + hashlib.md5(
                ("1700000003." + "u" * 70).encode()).hexdigest().encode(),
            f"5 {unique_id_of(self.smtp_path)}".encode(),
        ])

    def test_sizes_measured(self):
        pop = self.poplib_login("alice")
        for number, (_, _, contents) in enumerate(self.FILES, start=1):
            with self.subTest(message=number):
                wire = self.expected_wire(contents)
                self.assertEqual(pop.list(number),
                                 f"+OK {number} {len(wire)}".encode())
                _, lines, octets = pop.retr(number)
                self.assertEqual(octets, len(wire))
                self.assertEqual(b"\r\n".join(lines) + b"\r\n", wire)

    def test_header_only_top(self):
        client = self.open_session("alice")
        self.assertEqual(client.multiline("TOP 3 0"),
                         b"+OK Top of message follows\r\n"
                         b"Only a header line\r\n.\r\n")
        self.assertEqual(client.multiline("TOP 1 0"),
                         b"+OK Top of message follows\r\n"
                         b"Subject: no final newline\r\n\r\n.\r\n")

    def test_vanished_file(self):
        client = self.open_session("alice")
        for path in self.message_files("alice"):
            if "M1P1" in path and ":2,S" not in path:
                os.unlink(path)
        self.assertEqual(client.command("RETR 1"),
                         b"-ERR [SYS/TEMP] Cannot read the message\r\n")
        self.assertEqual(client.command("STAT").split(b" ")[0], b"+OK")
        self.assertEqual(client.command("DELE 1"),
                         b"+OK Message 1 deleted\r\n")
        self.assertEqual(client.command("QUIT"),
                         b"+OK Postern POP3 server signing off "
                         b"(4 messages left)\r\n")
        self.assertIn("event=read-failed", self.server.log_text())


if __name__ == "__main__":
    unittest.main()
