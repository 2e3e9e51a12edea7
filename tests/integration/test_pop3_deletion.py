"""DELE, RSET and the UPDATE state (RFC 1939, sections 5 and 6): deletions
apply only on QUIT, a dropped connection deletes nothing, and mail
delivered during a session leaves that session's numbering alone."""

import os
import unittest

import pop3_support
from harness import read_bytes
from pop3_support import (NO_SUCH_MESSAGE, SYNTAX_ERROR, maildrop_summary,
                          unique_id_of, wire_form)

ALREADY_DELETED = b"-ERR Message already deleted\r\n"


def sign_off(left):
    noun = "message" if left == 1 else "messages"
    return (f"+OK Postern POP3 server signing off ({left} {noun} left)\r\n"
            .encode("ascii"))


class DeletionTestCase(pop3_support.Pop3TestCase):
    def setUp(self):
        super().setUp()
        self.paths = [
            self.deliver("alice", pop3_support.simple_message(f"number {n}"))
            for n in (1, 2, 3)]
        self.unique_ids = [unique_id_of(path) for path in self.paths]
        self.sizes = [len(wire_form(read_bytes(path)))
                      for path in self.paths]

    def remaining_ids(self):
        """Return the UIDL values of a new session, which is closed by
        QUIT without changes."""
        client = self.open_session_when_unlocked("alice")
        listing = client.multiline("UIDL").split(b"\r\n")[1:-2]
        client.command("QUIT")
        client.read_until_closed()
        return [line.split(b" ", 1)[1].decode("ascii") for line in listing]

    def remaining_files(self):
        return sorted(unique_id_of(path)
                      for path in self.message_files("alice"))


class DeleTests(DeletionTestCase):
    def test_quit_removes(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("DELE 2"),
                         b"+OK Message 2 deleted\r\n")
        self.assertEqual(client.command("QUIT"), sign_off(2))
        self.assertEqual(client.read_until_closed(), b"")
        self.assertEqual(self.remaining_files(),
                         sorted([self.unique_ids[0], self.unique_ids[2]]))
        self.assertEqual(self.remaining_ids(),
                         [self.unique_ids[0], self.unique_ids[2]])

    def test_quit_removes_all(self):
        pop = self.poplib_login("alice")
        for number in (1, 2, 3):
            pop.dele(number)
        self.assertEqual(pop.quit(), sign_off(0).rstrip(b"\r\n"))
        self.assertEqual(self.message_files("alice"), [])
        self.assertIn("event=update user=alice deleted=3",
                      self.server.log_text())

    def test_dropped_connection_keeps(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("DELE 1"),
                         b"+OK Message 1 deleted\r\n")
        client.close()
        self.assertEqual(self.remaining_ids(), self.unique_ids)
        self.assertEqual(self.remaining_files(), sorted(self.unique_ids))

    def test_poplib_close_without_quit_keeps(self):
        pop = self.poplib_login("alice")
        pop.dele(3)
        pop.close()
        self.assertEqual(self.remaining_ids(), self.unique_ids)

    def test_server_stop_keeps(self):
        client = self.open_session("alice")
        client.command("DELE 1")
        self.assertEqual(self.server.stop(), 0)
        self.assertEqual(client.read_until_closed(),
                         b"-ERR [SYS/TEMP] Server shutting down\r\n")
        self.assertEqual(self.remaining_files(), sorted(self.unique_ids))

    def test_deleted_hidden_from_session(self):
        client = self.open_session("alice")
        client.command("DELE 2")
        self.assertEqual(client.command("STAT"),
                         f"+OK 2 {self.sizes[0] + self.sizes[2]}\r\n"
                         .encode())
        self.assertEqual(
            client.multiline("LIST"),
            maildrop_summary(2, self.sizes[0] + self.sizes[2]) +
            f"1 {self.sizes[0]}\r\n3 {self.sizes[2]}\r\n.\r\n".encode())
        self.assertEqual(
            client.multiline("UIDL"),
            b"+OK Unique-ID listing follows\r\n" +
            f"1 {self.unique_ids[0]}\r\n"
            f"3 {self.unique_ids[2]}\r\n.\r\n".encode())

    def test_deleted_message_errors(self):
        client = self.open_session("alice")
        client.command("DELE 1")
        self.assertEqual(client.command("DELE 1"), ALREADY_DELETED)
        self.assertEqual(client.command("RETR 1"), NO_SUCH_MESSAGE)
        self.assertEqual(client.command("TOP 1 0"), NO_SUCH_MESSAGE)
        self.assertEqual(client.command("LIST 1"), NO_SUCH_MESSAGE)
        self.assertEqual(client.command("UIDL 1"), NO_SUCH_MESSAGE)

    def test_number_errors(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("DELE 4"), NO_SUCH_MESSAGE)
        self.assertEqual(client.command("DELE 0"), SYNTAX_ERROR)
        self.assertEqual(client.command("DELE one"), SYNTAX_ERROR)
        self.assertEqual(client.command("DELE"), SYNTAX_ERROR)
        self.assertEqual(client.command("DELE -1"), SYNTAX_ERROR)

    def test_rset_undoes(self):
        client = self.open_session("alice")
        client.command("DELE 1")
        client.command("DELE 3")
        self.assertEqual(client.command("STAT"),
                         f"+OK 1 {self.sizes[1]}\r\n".encode())
        self.assertEqual(client.command("RSET"),
                         maildrop_summary(3, sum(self.sizes)))
        self.assertEqual(client.command("RETR 1").split(b" ")[0], b"+OK")
        client.read_multiline()
        self.assertEqual(client.command("QUIT"), sign_off(3))
        self.assertEqual(self.remaining_ids(), self.unique_ids)

    def test_rset_then_dele(self):
        pop = self.poplib_login("alice")
        pop.dele(1)
        pop.rset()
        pop.dele(2)
        self.assertEqual(pop.quit(), sign_off(2).rstrip(b"\r\n"))
        self.assertEqual(self.remaining_ids(),
                         [self.unique_ids[0], self.unique_ids[2]])

    def test_rset_with_argument(self):
        client = self.open_session("alice")
        self.assertEqual(client.command("RSET 1"), SYNTAX_ERROR)


class ConcurrentDeliveryTests(DeletionTestCase):
    def test_numbering_fixed_during_session(self):
        client = self.open_session("alice")
        listing = client.multiline("LIST")
        new = self.deliver("alice", pop3_support.simple_message("late"))
        self.assertEqual(client.multiline("LIST"), listing)
        self.assertEqual(client.command("STAT"),
                         f"+OK 3 {sum(self.sizes)}\r\n".encode())
        self.assertEqual(client.command("RETR 4"), NO_SUCH_MESSAGE)
        self.assertEqual(client.command("DELE 4"), NO_SUCH_MESSAGE)
        self.assertEqual(client.command("DELE 1"),
                         b"+OK Message 1 deleted\r\n")
        self.assertEqual(client.command("QUIT"), sign_off(2))

        # The late message waits in new/ and is message 3 next time.
        self.assertTrue(os.path.exists(new))
        self.assertEqual(self.remaining_ids(),
                         self.unique_ids[1:] + [unique_id_of(new)])

    def test_late_message_retrieved_next_session(self):
        pop = self.poplib_login("alice")
        message = pop3_support.simple_message("late", "Arrived late.\r\n")
        new = self.deliver("alice", message)
        stored = read_bytes(new)
        self.assertEqual(pop.stat()[0], 3)
        pop.quit()

        pop = self.poplib_login("alice")
        self.assertEqual(pop.stat()[0], 4)
        _, lines, _ = pop.retr(4)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", wire_form(stored))


if __name__ == "__main__":
    unittest.main()
