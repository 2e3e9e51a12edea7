"""POP3 AUTH (RFC 5034) with every mechanism postern-server has, each run by
a real client where one supports it: mpop (GNU SASL) and curl. SCRAM -PLUS
(RFC 5802, section 6) runs by hand with tls-server-end-point (RFC 5929)
and, through `openssl s_client`, tls-exporter (RFC 9266). Each mechanism
has a success, a wrong password, and a cancel at its first challenge;
CRAM-MD5 also accepts the POP3 override password."""

import os
import unittest

import pop3_support
import sasl_support
from pop3_support import AUTH_FAILED, maildrop_summary
from sasl_support import NTLMV1_DISABLED_LOG, b64, unb64

PASSWORD = "correct horse"
WRONG_PASSWORD = "wrong horse"

LOGGED_IN = maildrop_summary(0, 0)
CANCELLED = b"-ERR Authentication cancelled\r\n"
NEEDS_TLS = (b"-ERR [AUTH] Authentication mechanism requires an encrypted "
             b"connection\r\n")

# sysexits.h EX_NOPERM: mpop 1.4.18 exits with it when the server rejects
# the credentials.
MPOP_AUTH_FAILED = 77
# curl(1), EXIT CODES: the login was denied.
CURL_LOGIN_DENIED = 67

# mpop's auth values and the mechanism name each sends.
MPOP_MECHANISMS = {
    "scram-sha-256": "SCRAM-SHA-256",
    "scram-sha-1": "SCRAM-SHA-1",
    "cram-md5": "CRAM-MD5",
    "plain": "PLAIN",
    "login": "LOGIN",
}

# The mechanisms offered in clear and over TLS with the default
# [auth.pop3].
CLEAR_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "NTLM")
TLS_MECHANISMS = ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
                  "SCRAM-SHA-1", "CRAM-MD5", "NTLM", "PLAIN", "LOGIN")


class MechanismTestCase(pop3_support.Pop3TestCase):
    """Runs the clients with HOME in the server's test folder."""

    def setUp(self):
        super().setUp()
        self.home = os.path.join(self.server.root, "home")
        os.makedirs(self.home)
        self.maildir = os.path.join(self.home, "Maildir")
        for folder in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(self.maildir, folder))

    def mpop(self, mechanism, password=PASSWORD, user="alice", tls=True):
        """Run mpop once with STLS on the pop3 listener, or in clear when
        `tls` is false. Return its exit status and debug output."""
        lines = [
            "defaults",
            f"tls {'on' if tls else 'off'}",
            "tls_starttls on",
            "tls_certcheck off",
            f"uidls_file {self.home}/mpop_uidls",
            "account default",
            "host 127.0.0.1",
            f"port {self.server.port('pop3')}",
            f"user {user}",
            f"password {password}",
            f"delivery maildir {self.maildir}",
            f"auth {mechanism}",
            "keep on",
        ]
        config = sasl_support.write_private(self.home, "mpoprc",
                                            "\n".join(lines) + "\n")
        return sasl_support.run_client(["mpop", "--debug", "-C", config],
                                       self.home)

    def curl(self, mechanism, password=PASSWORD):
        """List alice's maildrop with curl over STLS on the pop3 listener.
        Return its exit status and verbose trace."""
        return sasl_support.run_client([
            "curl", "--verbose", "--silent", "--show-error", "--ssl-reqd",
            "--insecure", "--max-time", "20",
            "--url", f"pop3://127.0.0.1:{self.server.port('pop3')}/",
            "--user", f"alice:{password}",
            "--login-options", f"AUTH={mechanism}"], self.home)

    def open_tls(self, listener="pop3s"):
        """Connect with TLS (STLS unless the listener is implicit) and
        send CAPA, whose response lists the -PLUS mechanisms."""
        client = self.connect_encrypted(listener)
        self.assertIn(b"SASL SCRAM-SHA-256-PLUS ", client.multiline("CAPA"))
        return client


def run_scram(client, mechanism, scram):
    """Run a SCRAM exchange with an initial response on a POP3 client,
    and return the last response. On a "+" with the server-final-message,
    check its ServerSignature and send the empty response that ends the
    exchange."""
    reply = client.command(
        f"AUTH {mechanism} {b64(scram.client_first())}")
    if not reply.startswith(b"+ "):
        return reply
    server_first = unb64(reply[2:]).decode("utf-8")
    reply = client.command(b64(scram.client_final(server_first)))
    if not reply.startswith(b"+ "):
        return reply
    server_final = unb64(reply[2:]).decode("utf-8")
    if not scram.server_final_valid(server_final):
        raise AssertionError(f"wrong ServerSignature in {server_final!r}")
    return client.command("")


class MpopTests(MechanismTestCase):
    def test_each_mechanism_succeeds(self):
        for option, name in MPOP_MECHANISMS.items():
            with self.subTest(option):
                status, output = self.mpop(option)
                self.assertEqual(status, 0, output)
                self.assertRegex(output, rf"(?m)^--> AUTH {name}\b")
                self.assertIn("<-- " + LOGGED_IN.decode().rstrip(), output)

    def test_each_mechanism_rejects_wrong_password(self):
        for option, name in MPOP_MECHANISMS.items():
            with self.subTest(option):
                status, output = self.mpop(option, WRONG_PASSWORD)
                self.assertEqual(status, MPOP_AUTH_FAILED, output)
                self.assertRegex(output, rf"(?m)^--> AUTH {name}\b")
                self.assertIn("<-- -ERR [AUTH] Authentication failed",
                              output)

    def test_cram_md5_in_clear(self):
        # CRAM-MD5 sends no password, so the default allows it without
        # TLS.
        status, output = self.mpop("cram-md5", tls=False)
        self.assertEqual(status, 0, output)
        self.assertNotIn("--> STLS", output)
        self.assertIn("--> AUTH CRAM-MD5", output)

    def test_ntlm_v1_rejected_by_default(self):
        # GNU SASL's NTLM sends the NTLMv1 response, which an eavesdropper
        # can crack offline, so the server rejects it unless
        # [auth] ntlm_v1 = true, and its log names that setting.
        status, output = self.mpop("ntlm")
        self.assertEqual(status, MPOP_AUTH_FAILED, output)
        self.assertEqual(sasl_support.ntlm_response_octets(output),
                         sasl_support.NTLMV1_RESPONSE_OCTETS)
        self.assertIn("<-- -ERR [AUTH] Authentication failed", output)
        self.assertIn(NTLMV1_DISABLED_LOG, self.server.log_text())


class NtlmV1AllowedTests(MechanismTestCase):
    """[auth] ntlm_v1 = true beside an [auth.pop3] table."""

    server_options = {"auth_settings": {"ntlm_v1": True},
                      "pop3_auth": {"NTLM": "tls"}}

    def test_mpop_ntlm_succeeds(self):
        status, output = self.mpop("ntlm")
        self.assertEqual(status, 0, output)
        self.assertEqual(sasl_support.ntlm_response_octets(output),
                         sasl_support.NTLMV1_RESPONSE_OCTETS)
        self.assertIn("<-- " + LOGGED_IN.decode().rstrip(), output)
        self.assertIn("event=auth mechanism=NTLM user=alice result=ok",
                      self.server.log_text())

    def test_mpop_ntlm_wrong_password(self):
        status, output = self.mpop("ntlm", WRONG_PASSWORD)
        self.assertEqual(status, MPOP_AUTH_FAILED, output)
        self.assertIn("<-- -ERR [AUTH] Authentication failed", output)
        log = self.server.log_text()
        # The line ends at the result: no note names a refusing setting.
        self.assertIn(
            "event=auth mechanism=NTLM user=alice result=failed\n", log)


class CramMd5OverrideTests(MechanismTestCase):
    """An account with a POP3 override password and no --apop. Only the
    override's plaintext is kept, and CRAM-MD5 over POP3 tries it after
    the account's own CRAM-MD5 context."""

    def add_users(self):
        super().add_users()
        self.server.add_user("olive", "olive password",
                             override="olive pop3 secret")

    def test_override_password_succeeds(self):
        status, output = self.mpop("cram-md5", "olive pop3 secret",
                                   user="olive")
        self.assertEqual(status, 0, output)
        self.assertIn("--> AUTH CRAM-MD5", output)
        self.assertIn("<-- " + LOGGED_IN.decode().rstrip(), output)
        self.assertIn("event=auth mechanism=CRAM-MD5 user=olive result=ok",
                      self.server.log_text())

    def test_account_password_succeeds(self):
        status, output = self.mpop("cram-md5", "olive password",
                                   user="olive")
        self.assertEqual(status, 0, output)
        self.assertIn("<-- " + LOGGED_IN.decode().rstrip(), output)

    def test_wrong_password(self):
        status, output = self.mpop("cram-md5", WRONG_PASSWORD, user="olive")
        self.assertEqual(status, MPOP_AUTH_FAILED, output)
        self.assertIn("<-- -ERR [AUTH] Authentication failed", output)


class CurlTests(MechanismTestCase):
    def test_each_mechanism_succeeds(self):
        for name in ("NTLM", "CRAM-MD5", "PLAIN", "LOGIN"):
            with self.subTest(name):
                status, trace = self.curl(name)
                self.assertEqual(status, 0, trace)
                self.assertIn(f"> AUTH {name}", trace)
                self.assertIn("< " + LOGGED_IN.decode(), trace)

    def test_each_mechanism_rejects_wrong_password(self):
        for name in ("NTLM", "CRAM-MD5", "PLAIN", "LOGIN"):
            with self.subTest(name):
                status, trace = self.curl(name, WRONG_PASSWORD)
                self.assertEqual(status, CURL_LOGIN_DENIED, trace)
                self.assertIn(f"> AUTH {name}", trace)
                self.assertIn("< -ERR [AUTH] Authentication failed\r\n",
                              trace)

    def test_ntlm_is_v2_and_allowed_by_default(self):
        status, trace = self.curl("NTLM")
        self.assertEqual(status, 0, trace)
        self.assertGreater(sasl_support.ntlm_response_octets(trace),
                           sasl_support.NTLMV1_RESPONSE_OCTETS)
        self.assertNotIn("ntlm_v1", self.server.log_text())


class ScramPlusTests(MechanismTestCase):
    """SCRAM -PLUS by hand: no installed client runs it. Python 3.11's ssl
    module offers only tls-unique, so tls-server-end-point comes from the
    server certificate and tls-exporter from `openssl s_client`."""

    def end_point_binding(self, client):
        return sasl_support.tls_server_end_point(
            client.sock.getpeercert(binary_form=True))

    def scram(self, mechanism, binding_type, binding_data,
              password=PASSWORD):
        return sasl_support.ScramClient(
            mechanism, "alice", password, f"p={binding_type},,",
            binding_data)

    def test_server_end_point_succeeds(self):
        for listener in ("pop3s", "pop3"):
            for mechanism in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"):
                with self.subTest(listener=listener, mechanism=mechanism):
                    client = self.open_tls(listener)
                    scram = self.scram(mechanism, "tls-server-end-point",
                                       self.end_point_binding(client))
                    self.assertEqual(run_scram(client, mechanism, scram),
                                     LOGGED_IN)
                    client.command("QUIT")

    def test_server_end_point_wrong_binding(self):
        client = self.open_tls()
        binding = bytearray(self.end_point_binding(client))
        binding[0] ^= 1
        scram = self.scram("SCRAM-SHA-256-PLUS", "tls-server-end-point",
                           bytes(binding))
        self.assertEqual(run_scram(client, "SCRAM-SHA-256-PLUS", scram),
                         AUTH_FAILED)

    def test_server_end_point_wrong_password(self):
        client = self.open_tls()
        scram = self.scram("SCRAM-SHA-256-PLUS", "tls-server-end-point",
                           self.end_point_binding(client), WRONG_PASSWORD)
        self.assertEqual(run_scram(client, "SCRAM-SHA-256-PLUS", scram),
                         AUTH_FAILED)

    def test_tls_unique_rejected(self):
        # tls-unique is not defined for TLS 1.3 and on TLS 1.2 falls to
        # the triple handshake attack, so the server never serves it.
        client = self.open_tls()
        unique = client.sock.get_channel_binding("tls-unique")
        scram = self.scram("SCRAM-SHA-256-PLUS", "tls-unique", unique or b"")
        self.assertEqual(run_scram(client, "SCRAM-SHA-256-PLUS", scram),
                         AUTH_FAILED)

    def open_openssl(self):
        session = sasl_support.OpensslSession(self.server.port("pop3s"))
        self.addCleanup(session.close)
        self.assertRegex(session.read_line(), pop3_support.GREETING)
        return session

    def run_openssl_scram(self, session, scram):
        session.send_line(
            f"AUTH SCRAM-SHA-256-PLUS {b64(scram.client_first())}")
        reply = session.read_line()
        self.assertEqual(reply[:2], b"+ ", reply)
        session.send_line(b64(scram.client_final(
            unb64(reply[2:]).decode("utf-8"))))
        return session.read_line()

    def test_exporter_succeeds(self):
        session = self.open_openssl()
        scram = self.scram("SCRAM-SHA-256-PLUS", "tls-exporter",
                           session.exporter)
        reply = self.run_openssl_scram(session, scram)
        self.assertEqual(reply[:2], b"+ ", reply)
        self.assertTrue(scram.server_final_valid(
            unb64(reply[2:]).decode("utf-8")), reply)
        session.send_line("")
        self.assertEqual(session.read_line(), LOGGED_IN)

    def test_exporter_wrong_binding(self):
        session = self.open_openssl()
        binding = bytes(octet ^ 0xFF for octet in session.exporter)
        scram = self.scram("SCRAM-SHA-256-PLUS", "tls-exporter", binding)
        self.assertEqual(self.run_openssl_scram(session, scram), AUTH_FAILED)

    def test_plus_needs_tls(self):
        client = self.connect("pop3")
        for mechanism in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"):
            with self.subTest(mechanism):
                self.assertEqual(client.command(f"AUTH {mechanism}"),
                                 NEEDS_TLS)


class DowngradeTests(MechanismTestCase):
    """RFC 5802, section 6: the gs2 flag "y" means the client could bind
    but saw no -PLUS offer. Where the server offers -PLUS, that means an
    attacker removed it from what the client saw, so the exchange must
    fail, whether or not the client asked for CAPA."""

    def test_y_flag_without_capa_fails(self):
        # An attacker who ends TLS on both sides need not pass CAPA on.
        client = self.connect("pop3s")
        scram = sasl_support.ScramClient("SCRAM-SHA-256", "alice", PASSWORD,
                                         "y,,")
        self.assertEqual(run_scram(client, "SCRAM-SHA-256", scram),
                         AUTH_FAILED)

    def test_y_flag_after_capa_fails(self):
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
            with self.subTest(mechanism):
                client = self.open_tls()
                scram = sasl_support.ScramClient(mechanism, "alice",
                                                 PASSWORD, "y,,")
                self.assertEqual(run_scram(client, mechanism, scram),
                                 AUTH_FAILED)

    def test_y_flag_after_auth_list_fails(self):
        client = self.connect("pop3s")
        self.assertIn(b"\r\nSCRAM-SHA-256-PLUS\r\n",
                      client.multiline("AUTH"))
        scram = sasl_support.ScramClient("SCRAM-SHA-256", "alice", PASSWORD,
                                         "y,,")
        self.assertEqual(run_scram(client, "SCRAM-SHA-256", scram),
                         AUTH_FAILED)

    def test_y_flag_in_clear_succeeds(self):
        # No -PLUS is offered without TLS, so a client that sends "y" is right.
        client = self.connect("pop3")
        self.assertEqual(client.multiline("CAPA"), pop3_support.CAPA_CLEAR)
        scram = sasl_support.ScramClient("SCRAM-SHA-256", "alice", PASSWORD,
                                         "y,,")
        self.assertEqual(run_scram(client, "SCRAM-SHA-256", scram),
                         LOGGED_IN)

    def test_n_flag_over_tls_succeeds(self):
        client = self.open_tls()
        scram = sasl_support.ScramClient("SCRAM-SHA-256", "alice", PASSWORD)
        self.assertEqual(run_scram(client, "SCRAM-SHA-256", scram),
                         LOGGED_IN)


class CancelTests(MechanismTestCase):
    """RFC 5034, section 4: "*" in place of a response cancels."""

    def assert_cancels(self, listener, mechanisms):
        # A cancel counts toward the five failed AUTH commands after which
        # the server closes, so each mechanism gets its own connection.
        for mechanism in mechanisms:
            with self.subTest(mechanism):
                client = self.connect(listener)
                self.assertEqual(client.command(f"AUTH {mechanism}")[:2],
                                 b"+ ")
                self.assertEqual(client.command("*"), CANCELLED)
                # The session stays in the AUTHORIZATION state.
                self.assertEqual(client.command("STAT"),
                                 pop3_support.WRONG_STATE)

    def test_cancel_at_first_challenge_over_tls(self):
        self.assert_cancels("pop3s", TLS_MECHANISMS)

    def test_cancel_at_first_challenge_in_clear(self):
        self.assert_cancels("pop3", CLEAR_MECHANISMS)

    def test_cancel_scram_at_server_first(self):
        client = self.connect("pop3s")
        scram = sasl_support.ScramClient("SCRAM-SHA-256", "alice", PASSWORD)
        reply = client.command(
            f"AUTH SCRAM-SHA-256 {b64(scram.client_first())}")
        self.assertEqual(reply[:2], b"+ ")
        self.assertEqual(client.command("*"), CANCELLED)

    def test_cancel_ntlm_at_challenge_message(self):
        # A NEGOTIATE_MESSAGE that requests UNICODE, REQUEST_TARGET and
        # NTLM, with empty domain and workstation fields ([MS-NLMP]
        # section 2.2.1.1).
        negotiate = b"NTLMSSP\0\x01\0\0\0\x05\x02\0\0" + b"\0" * 16
        client = self.connect("pop3s")
        self.assertEqual(client.command("AUTH NTLM"), b"+ \r\n")
        reply = client.command(b64(negotiate))
        self.assertTrue(reply.startswith(b"+ TlRMTVNTUAAC"), reply)
        self.assertEqual(client.command("*"), CANCELLED)
        self.assertEqual(client.login("alice", PASSWORD), LOGGED_IN)


if __name__ == "__main__":
    unittest.main()
