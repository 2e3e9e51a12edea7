"""PIPELINING (RFC 2920): commands sent in one write get their replies in
order, and a pipelined message is stored."""

import unittest

import harness
from harness import read_bytes

SENDER_OK = b"250 2.1.0 Sender OK\r\n"
RECIPIENT_OK = b"250 2.1.5 Recipient OK\r\n"
USER_UNKNOWN = b"550 5.1.1 Mailbox unavailable: user unknown\r\n"
START_DATA = b"354 End data with <CR><LF>.<CR><LF>\r\n"
ACCEPTED = b"250 2.0.0 Message accepted for delivery\r\n"
CLOSING = b"221 2.0.0 mail.test closing connection\r\n"


class PipeliningTests(harness.SmtpTestCase):
    def test_transaction_in_two_writes(self):
        client = self.connect("smtp")
        self.assertIn(b"250-PIPELINING\r\n", client.ehlo())

        client.send(b"MAIL FROM:<sender@example.org>\r\n"
                    b"RCPT TO:<alice@mail.test>\r\n"
                    b"RCPT TO:<nobody@mail.test>\r\n"
                    b"DATA\r\n")
        self.assertEqual(client.read_replies(4),
                         [SENDER_OK, RECIPIENT_OK, USER_UNKNOWN, START_DATA])

        message = b"Subject: pipelined\r\n\r\nSent in one write.\r\n"
        client.send(message + b".\r\nQUIT\r\n")
        self.assertEqual(client.read_until_closed(), ACCEPTED + CLOSING)

        files = self.server.mail_files("alice")
        self.assertEqual(len(files), 1)
        self.assertTrue(read_bytes(files[0]).endswith(
            b" +0000\nSubject: pipelined\n\nSent in one write.\n"))

    def test_whole_session_after_ehlo(self):
        # Everything from MAIL to QUIT in one write: the server must not
        # read the message lines as commands or the commands as message.
        client = self.connect("smtp")
        client.ehlo()
        client.send(b"MAIL FROM:<sender@example.org>\r\n"
                    b"RCPT TO:<bob@mail.test>\r\n"
                    b"DATA\r\n"
                    b"Subject: all at once\r\n"
                    b"\r\n"
                    b"RSET\r\n"
                    b"..\r\n"
                    b".\r\n"
                    b"NOOP\r\n"
                    b"QUIT\r\n")
        self.assertEqual(client.read_until_closed(),
                         SENDER_OK + RECIPIENT_OK + START_DATA + ACCEPTED
                         + b"250 2.0.0 OK\r\n" + CLOSING)
        files = self.server.mail_files("bob")
        self.assertEqual(len(files), 1)
        self.assertTrue(read_bytes(files[0]).endswith(
            b" +0000\nSubject: all at once\n\nRSET\n.\n"))

    def test_rset_noop_batch(self):
        client = self.connect("smtp")
        client.ehlo()
        client.send(b"MAIL FROM:<sender@example.org>\r\n"
                    b"RSET\r\n"
                    b"NOOP\r\n"
                    b"RCPT TO:<alice@mail.test>\r\n"
                    b"NOOP\r\n"
                    b"MAIL FROM:<sender@example.org>\r\n"
                    b"RCPT TO:<alice@mail.test>\r\n"
                    b"RSET\r\n"
                    b"DATA\r\n")
        self.assertEqual(client.read_replies(9), [
            SENDER_OK,
            b"250 2.0.0 Reset OK\r\n",
            b"250 2.0.0 OK\r\n",
            b"503 5.5.1 Need MAIL command\r\n",
            b"250 2.0.0 OK\r\n",
            SENDER_OK,
            RECIPIENT_OK,
            b"250 2.0.0 Reset OK\r\n",
            b"503 5.5.1 Need MAIL command\r\n",
        ])
        self.assertEqual(client.read_available(0.3), b"")

    def test_data_rejected_when_no_recipient(self):
        # RFC 5321, section 3.3: with every RCPT rejected, DATA gets 503
        # or 554, and the lines after it are commands again.
        client = self.connect("smtp")
        client.ehlo()
        client.send(b"MAIL FROM:<sender@example.org>\r\n"
                    b"RCPT TO:<nobody@mail.test>\r\n"
                    b"RCPT TO:<bob@example.org>\r\n"
                    b"DATA\r\n"
                    b"RSET\r\n")
        self.assertEqual(client.read_replies(5), [
            SENDER_OK,
            USER_UNKNOWN,
            b"554 5.7.1 Relaying denied\r\n",
            b"503 5.5.1 Need RCPT command\r\n",
            b"250 2.0.0 Reset OK\r\n",
        ])

    def test_two_messages_one_write(self):
        client = self.connect("smtp")
        client.ehlo()
        one = (b"MAIL FROM:<sender@example.org>\r\n"
               b"RCPT TO:<alice@mail.test>\r\n"
               b"DATA\r\n")
        client.send(one)
        self.assertEqual(client.read_replies(3),
                         [SENDER_OK, RECIPIENT_OK, START_DATA])
        client.send(b"Subject: first\r\n\r\n1\r\n.\r\n" + one)
        self.assertEqual(client.read_replies(4),
                         [ACCEPTED, SENDER_OK, RECIPIENT_OK, START_DATA])
        client.send(b"Subject: second\r\n\r\n2\r\n.\r\nQUIT\r\n")
        self.assertEqual(client.read_until_closed(), ACCEPTED + CLOSING)
        self.assertEqual(len(self.server.mail_files("alice")), 2)

    def test_pipelined_over_tls(self):
        client = self.connect("submissions")
        client.ehlo()
        plain = harness.sasl_plain("alice", "correct horse")
        client.send(f"AUTH PLAIN {plain}\r\n"
                    "MAIL FROM:<alice@mail.test>\r\n"
                    "RCPT TO:<bob@example.org>\r\n"
                    "RCPT TO:<bob@mail.test>\r\n"
                    "DATA\r\n")
        self.assertEqual(client.read_replies(5), [
            b"235 2.7.0 Authentication successful\r\n",
            SENDER_OK, RECIPIENT_OK, RECIPIENT_OK, START_DATA])
        client.send(b"Subject: tls\r\n\r\nPipelined over TLS.\r\n.\r\n"
                    b"QUIT\r\n")
        self.assertEqual(client.read_until_closed(), ACCEPTED + CLOSING)
        self.assertEqual(len(self.server.mail_files("bob")), 1)
        self.assertEqual(len(self.server.queue_files()), 1)


if __name__ == "__main__":
    unittest.main()
