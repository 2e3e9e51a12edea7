"""The exclusive maildrop lock (RFC 1939, section 4) and the [IN-USE]
response code (RFC 2449, section 8.1.2): one session per account in the
TRANSACTION state at a time."""

import poplib
import unittest

import harness
import pop3_support
from pop3_support import IN_USE, WRONG_STATE, maildrop_summary

LOGGED_IN = maildrop_summary(0, 0)


class LockTests(pop3_support.Pop3TestCase):
    def test_second_login_in_use(self):
        first = self.open_session("alice")
        second = self.connect("pop3s")
        self.assertEqual(second.login("alice", "correct horse"), IN_USE)

    def test_second_session_stays_in_authorization(self):
        first = self.open_session("alice")
        second = self.connect("pop3s")
        second.login("alice", "correct horse")
        self.assertEqual(second.command("STAT"), WRONG_STATE)
        self.assertEqual(second.multiline("CAPA"),
                         pop3_support.CAPA_ENCRYPTED)
        self.assertEqual(first.command("STAT"), b"+OK 0 0\r\n")

    def test_login_after_first_quits(self):
        first = self.open_session("alice")
        second = self.connect("pop3s")
        self.assertEqual(second.login("alice", "correct horse"), IN_USE)
        self.assertEqual(first.command("QUIT"),
                         b"+OK Postern POP3 server signing off "
                         b"(0 messages left)\r\n")
        self.assertEqual(second.login("alice", "correct horse"), LOGGED_IN)
        self.assertEqual(second.command("STAT"), b"+OK 0 0\r\n")

    def test_new_connection_after_first_quits(self):
        first = self.open_session("alice")
        first.command("QUIT")
        first.read_until_closed()
        client = self.connect("pop3s")
        self.assertEqual(client.login("alice", "correct horse"), LOGGED_IN)

    def test_released_when_connection_dropped(self):
        first = self.open_session("alice")
        first.close()
        self.open_session_when_unlocked("alice")

    def test_released_when_dropped_during_retr(self):
        body = ("y" * 900 + "\r\n") * 1000
        self.deliver("alice", pop3_support.simple_message("big", body))
        first = self.open_session("alice")
        first.send(b"RETR 1\r\n")
        self.assertTrue(first.read_line().startswith(b"+OK "))
        first.close()
        client = self.open_session_when_unlocked("alice")
        self.assertEqual(client.command("LIST 1").split(b" ")[:2],
                         [b"+OK", b"1"])

    def test_every_login_method_checks_lock(self):
        first = self.open_session("alice")
        client = self.connect("pop3s")
        plain = harness.sasl_plain("alice", "correct horse")
        self.assertEqual(client.command(f"AUTH PLAIN {plain}"), IN_USE)
        self.assertEqual(client.command("AUTH LOGIN " + harness.b64("alice")),
                         b"+ UGFzc3dvcmQ6\r\n")
        self.assertEqual(client.command(harness.b64("correct horse")),
                         IN_USE)

    def test_other_account_unaffected(self):
        alice = self.open_session("alice")
        bob = self.connect("pop3s")
        self.assertEqual(bob.login("bob", "battery staple"), LOGGED_IN)

    def test_failed_login_takes_no_lock(self):
        failed = self.connect("pop3s")
        self.assertEqual(failed.login("alice", "wrong horse"),
                         pop3_support.AUTH_FAILED)
        client = self.connect("pop3s")
        self.assertEqual(client.login("alice", "correct horse"), LOGGED_IN)

    def test_in_use_logged(self):
        first = self.open_session("alice")
        second = self.connect("pop3s")
        second.login("alice", "correct horse")
        self.assertIn("event=maildrop-in-use user=alice",
                      self.server.log_text())

    def test_poplib_in_use(self):
        first = self.poplib_login("alice")
        second = self.poplib_connect("pop3")
        second.user("alice")
        with self.assertRaises(poplib.error_proto) as raised:
            second.pass_("correct horse")
        self.assertEqual(raised.exception.args[0], IN_USE.rstrip(b"\r\n"))


class TwoServersTests(pop3_support.Pop3TestCase):
    """A second server process on the same data folder, as during a
    restart that overlaps the old process: the lock holds across
    processes."""

    def setUp(self):
        super().setUp()
        self.other = harness.Server()
        self.addCleanup(self.other.close)
        self.other.data_dir = self.server.data_dir
        self.other.write_config()
        self.other.start()

    def connect_other(self):
        client = pop3_support.Pop3Client(self.other.port("pop3s"),
                                         implicit_tls=True)
        self.addCleanup(client.close)
        client.greeting = client.read_line()
        return client

    def test_lock_across_processes(self):
        first = self.open_session("alice")
        other = self.connect_other()
        self.assertEqual(other.login("alice", "correct horse"), IN_USE)
        first.command("QUIT")
        self.assertEqual(other.login("alice", "correct horse"), LOGGED_IN)
        second = self.connect("pop3s")
        self.assertEqual(second.login("alice", "correct horse"), IN_USE)


class ApopLockTests(pop3_support.Pop3TestCase):
    def add_users(self):
        super().add_users()
        self.server.add_user("erin", "erin password", apop=True)

    def test_apop_in_use(self):
        first = self.open_session("erin", "erin password")
        client = self.connect("pop3")
        digest = pop3_support.apop_digest(client.timestamp(),
                                          "erin password")
        self.assertEqual(client.command(f"APOP erin {digest}"), IN_USE)


if __name__ == "__main__":
    unittest.main()
