"""The POP3 greeting with its APOP timestamp (RFC 1939, section 7) and
CAPA (RFC 2449, section 5) before and after TLS, with the default and
with changed [auth.pop3] settings."""

import time
import unittest

import harness
import pop3_support
from pop3_support import (CAPA_CLEAR, CAPA_ENCRYPTED, GREETING,
                          GREETING_WITHOUT_APOP)


class GreetingTests(pop3_support.Pop3TestCase):
    def assert_timestamp_greeting(self, greeting):
        """Check the greeting's timestamp <pid.counter.time@mail.test>
        and return its match."""
        match = GREETING.fullmatch(greeting)
        self.assertIsNotNone(match, greeting)
        self.assertEqual(int(match["pid"]), self.server.process.pid)
        self.assertLess(abs(int(match["time"]) - time.time()), 120)
        return match

    def test_starttls_listener_offers_apop(self):
        client = self.connect("pop3")
        self.assert_timestamp_greeting(client.greeting)

    def test_implicit_tls_listener_offers_apop(self):
        client = self.connect("pop3s")
        self.assert_timestamp_greeting(client.greeting)

    def test_timestamps_unique_per_connection(self):
        timestamps = []
        counters = []
        for listener in ("pop3s", "pop3s", "pop3", "pop3s"):
            client = self.connect(listener)
            match = self.assert_timestamp_greeting(client.greeting)
            timestamps.append(match["timestamp"])
            counters.append(int(match["counter"]))
            client.close()
        self.assertEqual(len(set(timestamps)), len(timestamps), timestamps)
        self.assertEqual(counters, sorted(counters))

    def test_poplib_welcome(self):
        pop = self.poplib_connect("pop3s")
        self.assertRegex(pop.getwelcome(),
                         rb"^\+OK Postern POP3 server ready <\d+\.\d+\.\d+"
                         rb"@mail\.test>$")


class CapaTests(pop3_support.Pop3TestCase):
    def test_before_stls(self):
        client = self.connect("pop3")
        self.assertEqual(client.multiline("CAPA"), CAPA_CLEAR)

    def test_after_stls(self):
        client = self.connect("pop3")
        client.stls()
        self.assertEqual(client.multiline("CAPA"), CAPA_ENCRYPTED)

    def test_implicit_tls(self):
        client = self.connect("pop3s")
        self.assertEqual(client.multiline("CAPA"), CAPA_ENCRYPTED)

    def test_in_transaction(self):
        # RFC 2449, section 5: capabilities of the AUTHORIZATION state are
        # announced in the TRANSACTION state too.
        client = self.open_session("alice")
        self.assertEqual(client.multiline("CAPA"), CAPA_ENCRYPTED)

    def test_case_insensitive_keyword(self):
        client = self.connect("pop3")
        self.assertEqual(client.multiline("capa"), CAPA_CLEAR)

    def test_poplib_capa(self):
        pop = self.poplib_connect("pop3", stls=False)
        self.assertEqual(pop.capa(), {
            "TOP": [], "UIDL": [],
            "SASL": ["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "NTLM"],
            "STLS": [], "RESP-CODES": [], "AUTH-RESP-CODE": [],
            "PIPELINING": [], "IMPLEMENTATION": ["Postern"]})
        pop.stls(context=harness.client_tls_context())
        self.assertEqual(pop.capa(), {
            "TOP": [], "UIDL": [], "USER": [],
            "SASL": ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256",
                     "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "CRAM-MD5", "NTLM",
                     "PLAIN", "LOGIN"],
            "RESP-CODES": [], "AUTH-RESP-CODE": [], "PIPELINING": [],
            "IMPLEMENTATION": ["Postern"]})


class ClearLoginsAllowedTests(pop3_support.Pop3TestCase):
    """USER and PLAIN allowed without TLS, while LOGIN keeps its default
    of TLS only."""

    server_options = {"pop3_auth": {"USER": "allow", "PLAIN": "allow"}}

    def test_capa_before_stls(self):
        client = self.connect("pop3")
        self.assertEqual(client.multiline("CAPA"),
                         b"+OK Capability list follows\r\n"
                         b"TOP\r\n"
                         b"UIDL\r\n"
                         b"USER\r\n"
                         b"SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 NTLM "
                         b"PLAIN\r\n"
                         b"STLS\r\n"
                         b"RESP-CODES\r\n"
                         b"AUTH-RESP-CODE\r\n"
                         b"PIPELINING\r\n"
                         b"IMPLEMENTATION Postern\r\n"
                         b".\r\n")

    def test_capa_after_stls(self):
        client = self.connect("pop3")
        client.stls()
        self.assertEqual(client.multiline("CAPA"), CAPA_ENCRYPTED)


class LoginsDeniedTests(pop3_support.Pop3TestCase):
    """USER, APOP and every SASL mechanism denied: no login at all."""

    server_options = {"pop3_auth": {
        name: "deny" for name in (
            "USER", "APOP", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256",
            "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "CRAM-MD5", "NTLM", "PLAIN",
            "LOGIN")}}

    def test_greeting_without_timestamp(self):
        for listener in ("pop3", "pop3s"):
            with self.subTest(listener=listener):
                client = self.connect(listener)
                self.assertEqual(client.greeting, GREETING_WITHOUT_APOP)

    def test_capa_lists_no_login(self):
        client = self.connect("pop3s")
        self.assertEqual(client.multiline("CAPA"),
                         b"+OK Capability list follows\r\n"
                         b"TOP\r\n"
                         b"UIDL\r\n"
                         b"RESP-CODES\r\n"
                         b"AUTH-RESP-CODE\r\n"
                         b"PIPELINING\r\n"
                         b"IMPLEMENTATION Postern\r\n"
                         b".\r\n")

    def test_auth_lists_no_mechanism(self):
        client = self.connect("pop3s")
        self.assertEqual(client.multiline("AUTH"),
                         b"+OK Authentication mechanisms follow\r\n.\r\n")


class ApopOverTlsOnlyTests(pop3_support.Pop3TestCase):
    """APOP = "tls". The greeting of a STLS listener comes before TLS, so
    it has no timestamp, but the implicit TLS listener's greeting has
    one."""

    server_options = {"pop3_auth": {"APOP": "tls"}}

    def test_starttls_greeting_without_timestamp(self):
        client = self.connect("pop3")
        self.assertEqual(client.greeting, GREETING_WITHOUT_APOP)

    def test_implicit_tls_greeting_with_timestamp(self):
        client = self.connect("pop3s")
        self.assertRegex(client.greeting, GREETING)

    def test_apop_after_stls_rejected(self):
        # No timestamp was sent, so no digest can be checked.
        client = self.connect("pop3")
        client.stls()
        self.assertEqual(client.command("APOP alice " + "0" * 32),
                         pop3_support.UNRECOGNIZED_MECHANISM)


if __name__ == "__main__":
    unittest.main()
