"""SMTP AUTH (RFC 4954) with every mechanism postern-server has, each run by
a real client where one supports it: msmtp (GNU SASL), curl, swaks and
Python's smtplib. SCRAM -PLUS (RFC 5802, section 6) runs by hand with
tls-server-end-point (RFC 5929) and, through `openssl s_client`,
tls-exporter (RFC 9266). Each mechanism has a success, a wrong password,
and a cancel at its first challenge."""

import os
import smtplib
import unittest

import harness
import sasl_support
from sasl_support import NTLMV1_DISABLED_LOG, b64, unb64

PASSWORD = "correct horse"
WRONG_PASSWORD = "wrong horse"

AUTH_OK = b"235 2.7.0 Authentication successful\r\n"
INVALID = b"535 5.7.8 Authentication credentials invalid\r\n"
CANCELLED = b"501 5.7.0 Authentication cancelled\r\n"
ENCRYPTION_REQUIRED = (b"538 5.7.11 Encryption required for requested "
                       b"authentication mechanism\r\n")

# sysexits.h EX_NOPERM: msmtp 1.8.23 exits with it when the server
# rejects the credentials.
MSMTP_AUTH_FAILED = 77
# curl(1), EXIT CODES: the login was denied.
CURL_LOGIN_DENIED = 67
# swaks(1), EXIT CODES: an error in the AUTH transaction.
SWAKS_AUTH_FAILED = 28

# msmtp's --auth values and the mechanism name each sends.
MSMTP_MECHANISMS = {
    "scram-sha-256": "SCRAM-SHA-256",
    "scram-sha-1": "SCRAM-SHA-1",
    "cram-md5": "CRAM-MD5",
    "plain": "PLAIN",
    "login": "LOGIN",
}

# The mechanisms offered in clear and over TLS with the default
# [auth.smtp].
CLEAR_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "NTLM")
TLS_MECHANISMS = ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
                  "SCRAM-SHA-1", "CRAM-MD5", "NTLM", "PLAIN", "LOGIN")

MESSAGE = (b"From: Alice <alice@mail.test>\r\n"
           b"To: Alice <alice@mail.test>\r\n"
           b"Subject: mechanism test\r\n"
           b"\r\n"
           b"Hello.\r\n")


class MechanismTestCase(harness.SmtpTestCase):
    """Runs the clients with HOME in the server's test folder."""

    def setUp(self):
        super().setUp()
        self.home = os.path.join(self.server.root, "home")
        os.makedirs(self.home)
        self.message_path = os.path.join(self.home, "message.eml")
        with open(self.message_path, "wb") as file:
            file.write(MESSAGE)

    def msmtp(self, mechanism, password=PASSWORD):
        """Send MESSAGE to alice with msmtp over STARTTLS on the
        submission listener. Return its exit status and debug output."""
        lines = [
            "defaults",
            "tls on",
            "tls_starttls on",
            "tls_certcheck off",
            "account default",
            "host 127.0.0.1",
            f"port {self.server.port('submission')}",
            f"domain {harness.CLIENT_NAME}",
            "from alice@mail.test",
            f"auth {mechanism}",
            "user alice",
            f"password {password}",
        ]
        config = sasl_support.write_private(self.home, "msmtprc",
                                            "\n".join(lines) + "\n")
        return sasl_support.run_client(
            ["msmtp", "--debug", "-C", config, "alice@mail.test"],
            self.home, input=MESSAGE)

    def curl(self, mechanism, password=PASSWORD):
        """Send MESSAGE to alice with curl over STARTTLS on the submission
        listener. Return its exit status and verbose trace."""
        url = (f"smtp://127.0.0.1:{self.server.port('submission')}/"
               f"{harness.CLIENT_NAME}")
        return sasl_support.run_client([
            "curl", "--verbose", "--silent", "--show-error", "--ssl-reqd",
            "--insecure", "--max-time", "20", "--url", url,
            "--user", f"alice:{password}",
            "--login-options", f"AUTH={mechanism}",
            "--mail-from", "alice@mail.test", "--mail-rcpt", "alice@mail.test",
            "--upload-file", self.message_path], self.home)

    def swaks(self, mechanism, password=PASSWORD):
        """Send a message to alice with swaks over STARTTLS on the
        submission listener. Return its exit status and output."""
        return sasl_support.run_client([
            "swaks", "--server",
            f"127.0.0.1:{self.server.port('submission')}", "--tls",
            "--auth", mechanism, "--auth-user", "alice",
            "--auth-password", password, "--from", "alice@mail.test",
            "--to", "alice@mail.test", "--helo", harness.CLIENT_NAME,
            "--timeout", "10"], self.home)

    def open_tls(self, listener="submissions"):
        """Connect with TLS (STARTTLS unless the listener is implicit)
        and send EHLO, whose reply lists the -PLUS mechanisms."""
        client = self.connect(listener)
        if self.server.listeners[listener].tls == "implicit":
            client.ehlo()
        else:
            client.secure()
        return client

    def assert_delivered(self, count):
        self.assertEqual(len(self.server.mail_files("alice")), count)


def run_scram(client, mechanism, scram):
    """Run a SCRAM exchange with an initial response on an SMTP client
    whose replies are bytes, and return the last reply. On a 334 with the
    server-final-message, check its ServerSignature and send the empty
    response that ends the exchange."""
    reply = client.command(
        f"AUTH {mechanism} {b64(scram.client_first())}")
    if not reply.startswith(b"334 "):
        return reply
    server_first = unb64(reply[4:]).decode("utf-8")
    reply = client.command(b64(scram.client_final(server_first)))
    if not reply.startswith(b"334 "):
        return reply
    server_final = unb64(reply[4:]).decode("utf-8")
    if not scram.server_final_valid(server_final):
        raise AssertionError(f"wrong ServerSignature in {server_final!r}")
    return client.command("")


class MsmtpTests(MechanismTestCase):
    def test_each_mechanism_succeeds(self):
        for count, (option, name) in enumerate(MSMTP_MECHANISMS.items(), 1):
            with self.subTest(option):
                status, output = self.msmtp(option)
                self.assertEqual(status, 0, output)
                self.assertRegex(output, rf"(?m)^--> AUTH {name}\b")
                self.assertIn("<-- 235 2.7.0 Authentication successful",
                              output)
                self.assert_delivered(count)

    def test_each_mechanism_rejects_wrong_password(self):
        for option, name in MSMTP_MECHANISMS.items():
            with self.subTest(option):
                status, output = self.msmtp(option, WRONG_PASSWORD)
                self.assertEqual(status, MSMTP_AUTH_FAILED, output)
                self.assertRegex(output, rf"(?m)^--> AUTH {name}\b")
                self.assertIn("<-- 535 5.7.8 Authentication credentials "
                              "invalid", output)
        self.assert_delivered(0)

    def test_ntlm_v1_rejected_by_default(self):
        # GNU SASL's NTLM sends the NTLMv1 response, which an eavesdropper
        # can crack offline, so the server rejects it unless
        # [auth] ntlm_v1 = true, and its log names that setting.
        status, output = self.msmtp("ntlm")
        self.assertEqual(status, MSMTP_AUTH_FAILED, output)
        self.assertEqual(sasl_support.ntlm_response_octets(output),
                         sasl_support.NTLMV1_RESPONSE_OCTETS)
        self.assertIn("<-- 535 5.7.8 Authentication credentials invalid",
                      output)
        self.assertIn(NTLMV1_DISABLED_LOG, self.server.log_text())
        self.assert_delivered(0)


class NtlmV1AllowedTests(MechanismTestCase):
    """[auth] ntlm_v1 = true beside an [auth.smtp] table."""

    server_options = {"auth_settings": {"ntlm_v1": True},
                      "smtp_auth": {"NTLM": "tls"}}

    def test_msmtp_ntlm_succeeds(self):
        status, output = self.msmtp("ntlm")
        self.assertEqual(status, 0, output)
        self.assertEqual(sasl_support.ntlm_response_octets(output),
                         sasl_support.NTLMV1_RESPONSE_OCTETS)
        self.assertIn("<-- 235 2.7.0 Authentication successful", output)
        self.assertIn("event=auth mechanism=NTLM user=alice result=ok",
                      self.server.log_text())
        self.assert_delivered(1)

    def test_msmtp_ntlm_wrong_password(self):
        status, output = self.msmtp("ntlm", WRONG_PASSWORD)
        self.assertEqual(status, MSMTP_AUTH_FAILED, output)
        self.assertIn("<-- 535 5.7.8 Authentication credentials invalid",
                      output)
        log = self.server.log_text()
        # The line ends at the result: no note names a refusing setting.
        self.assertIn(
            "event=auth mechanism=NTLM user=alice result=failed\n", log)

    def test_swaks_ntlm_succeeds(self):
        status, output = self.swaks("NTLM")
        self.assertEqual(status, 0, output)
        self.assertIn("<~  235 2.7.0 Authentication successful\n", output)
        self.assert_delivered(1)

    def test_swaks_ntlm_wrong_password(self):
        status, output = self.swaks("NTLM", WRONG_PASSWORD)
        self.assertEqual(status, SWAKS_AUTH_FAILED, output)
        self.assertIn("<~* 535 5.7.8 Authentication credentials invalid\n",
                      output)
        self.assert_delivered(0)


class CurlTests(MechanismTestCase):
    def test_each_mechanism_succeeds(self):
        for count, name in enumerate(("NTLM", "CRAM-MD5", "PLAIN", "LOGIN"),
                                     1):
            with self.subTest(name):
                status, trace = self.curl(name)
                self.assertEqual(status, 0, trace)
                self.assertIn(f"> AUTH {name}", trace)
                self.assertIn("< 235 2.7.0 Authentication successful\r\n",
                              trace)
                self.assert_delivered(count)

    def test_each_mechanism_rejects_wrong_password(self):
        for name in ("NTLM", "CRAM-MD5", "PLAIN", "LOGIN"):
            with self.subTest(name):
                status, trace = self.curl(name, WRONG_PASSWORD)
                self.assertEqual(status, CURL_LOGIN_DENIED, trace)
                self.assertIn(f"> AUTH {name}", trace)
                self.assertIn("< 535 5.7.8 Authentication credentials "
                              "invalid\r\n", trace)
        self.assert_delivered(0)

    def test_ntlm_is_v2_and_allowed_by_default(self):
        status, trace = self.curl("NTLM")
        self.assertEqual(status, 0, trace)
        self.assertGreater(sasl_support.ntlm_response_octets(trace),
                           sasl_support.NTLMV1_RESPONSE_OCTETS)
        self.assertNotIn("ntlm_v1", self.server.log_text())


class SwaksTests(MechanismTestCase):
    def test_cram_md5_succeeds(self):
        status, output = self.swaks("CRAM-MD5")
        self.assertEqual(status, 0, output)
        self.assertIn(" ~> AUTH CRAM-MD5\n", output)
        self.assertIn("<~  235 2.7.0 Authentication successful\n", output)
        self.assert_delivered(1)

    def test_cram_md5_wrong_password(self):
        status, output = self.swaks("CRAM-MD5", WRONG_PASSWORD)
        self.assertEqual(status, SWAKS_AUTH_FAILED, output)
        self.assertIn("<~* 535 5.7.8 Authentication credentials invalid\n",
                      output)
        self.assert_delivered(0)

    def test_ntlm_v1_rejected_by_default(self):
        # swaks drives Authen::NTLM 1.09 through its function interface,
        # which sends NTLMv1 responses unless ntlmv2() is called.
        status, output = self.swaks("NTLM")
        self.assertEqual(status, SWAKS_AUTH_FAILED, output)
        self.assertEqual(sasl_support.ntlm_response_octets(output),
                         sasl_support.NTLMV1_RESPONSE_OCTETS)
        self.assertIn("<~* 535 5.7.8 Authentication credentials invalid\n",
                      output)
        self.assertIn(NTLMV1_DISABLED_LOG, self.server.log_text())
        self.assert_delivered(0)


class SmtplibTests(MechanismTestCase):
    def smtplib_login(self, password):
        """Log in with smtplib in clear on the smtp listener, where only
        challenge-response mechanisms are offered, so smtplib's first
        choice among them, CRAM-MD5, is the one it runs."""
        with smtplib.SMTP("127.0.0.1", self.server.port("smtp"),
                          local_hostname=harness.CLIENT_NAME,
                          timeout=harness.SOCKET_TIMEOUT) as smtp:
            return smtp.login("alice", password)

    def test_cram_md5_succeeds(self):
        self.assertEqual(self.smtplib_login(PASSWORD),
                         (235, b"2.7.0 Authentication successful"))
        self.assertIn("event=auth mechanism=CRAM-MD5 user=alice result=ok",
                      self.server.log_text())

    def test_cram_md5_wrong_password(self):
        with self.assertRaises(smtplib.SMTPAuthenticationError) as caught:
            self.smtplib_login(WRONG_PASSWORD)
        self.assertEqual(caught.exception.smtp_code, 535)
        self.assertEqual(caught.exception.smtp_error,
                         b"5.7.8 Authentication credentials invalid")
        self.assertIn("event=auth mechanism=CRAM-MD5 user=alice "
                      "result=failed", self.server.log_text())


class CramMd5OverrideTests(MechanismTestCase):
    """SMTP AUTH ignores the POP3 override password, CRAM-MD5 included."""

    def setUp(self):
        super().setUp()
        self.server.add_user("olive", "olive password",
                             override="olive pop3 secret")

    def cram_md5(self, password):
        client = self.connect("smtp")
        client.ehlo()
        reply = client.command("AUTH CRAM-MD5")
        self.assertEqual(reply[:4], b"334 ")
        response = sasl_support.cram_md5_response("olive", password,
                                                  unb64(reply[4:]))
        return client.command(b64(response))

    def test_account_password_accepted(self):
        self.assertEqual(self.cram_md5("olive password"), AUTH_OK)

    def test_pop3_override_rejected(self):
        self.assertEqual(self.cram_md5("olive pop3 secret"), INVALID)


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
        for listener in ("submissions", "submission"):
            for mechanism in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"):
                with self.subTest(listener=listener, mechanism=mechanism):
                    client = self.open_tls(listener)
                    scram = self.scram(mechanism, "tls-server-end-point",
                                       self.end_point_binding(client))
                    self.assertEqual(run_scram(client, mechanism, scram),
                                     AUTH_OK)

    def test_server_end_point_wrong_binding(self):
        client = self.open_tls()
        binding = bytearray(self.end_point_binding(client))
        binding[0] ^= 1
        scram = self.scram("SCRAM-SHA-256-PLUS", "tls-server-end-point",
                           bytes(binding))
        self.assertEqual(run_scram(client, "SCRAM-SHA-256-PLUS", scram),
                         INVALID)

    def test_server_end_point_wrong_password(self):
        client = self.open_tls()
        scram = self.scram("SCRAM-SHA-256-PLUS", "tls-server-end-point",
                           self.end_point_binding(client), WRONG_PASSWORD)
        self.assertEqual(run_scram(client, "SCRAM-SHA-256-PLUS", scram),
                         INVALID)

    def test_tls_unique_rejected(self):
        # tls-unique is not defined for TLS 1.3 and on TLS 1.2 falls to
        # the triple handshake attack, so the server never serves it.
        client = self.open_tls()
        unique = client.sock.get_channel_binding("tls-unique")
        scram = self.scram("SCRAM-SHA-256-PLUS", "tls-unique", unique or b"")
        self.assertEqual(run_scram(client, "SCRAM-SHA-256-PLUS", scram),
                         INVALID)

    def open_openssl(self):
        session = sasl_support.OpensslSession(
            self.server.port("submissions"))
        self.addCleanup(session.close)
        self.assertEqual(session.read_reply(),
                         b"220 mail.test ESMTP Postern ready\r\n")
        session.send_line(f"EHLO {harness.CLIENT_NAME}")
        self.assertIn(b"250-AUTH SCRAM-SHA-256-PLUS ", session.read_reply())
        return session

    def run_openssl_scram(self, session, scram):
        session.send_line(
            f"AUTH SCRAM-SHA-256-PLUS {b64(scram.client_first())}")
        reply = session.read_reply()
        self.assertEqual(reply[:4], b"334 ", reply)
        session.send_line(b64(scram.client_final(
            unb64(reply[4:]).decode("utf-8"))))
        return session.read_reply()

    def test_exporter_succeeds(self):
        session = self.open_openssl()
        scram = self.scram("SCRAM-SHA-256-PLUS", "tls-exporter",
                           session.exporter)
        reply = self.run_openssl_scram(session, scram)
        self.assertEqual(reply[:4], b"334 ", reply)
        self.assertTrue(scram.server_final_valid(
            unb64(reply[4:]).decode("utf-8")), reply)
        session.send_line("")
        self.assertEqual(session.read_reply(), AUTH_OK)

    def test_exporter_wrong_binding(self):
        session = self.open_openssl()
        binding = bytes(octet ^ 0xFF for octet in session.exporter)
        scram = self.scram("SCRAM-SHA-256-PLUS", "tls-exporter", binding)
        self.assertEqual(self.run_openssl_scram(session, scram), INVALID)

    def test_plus_needs_tls(self):
        client = self.connect("smtp")
        client.ehlo()
        for mechanism in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"):
            with self.subTest(mechanism):
                self.assertEqual(client.command(f"AUTH {mechanism}"),
                                 ENCRYPTION_REQUIRED)


class DowngradeTests(MechanismTestCase):
    """RFC 5802, section 6: the gs2 flag "y" means the client could bind
    but saw no -PLUS offer. After an EHLO that listed -PLUS, that means
    an attacker removed it, so the exchange must fail."""

    def test_y_flag_after_plus_offered_fails(self):
        client = self.open_tls()
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
            with self.subTest(mechanism):
                scram = sasl_support.ScramClient(mechanism, "alice",
                                                 PASSWORD, "y,,")
                self.assertEqual(run_scram(client, mechanism, scram),
                                 INVALID)

    def test_y_flag_in_clear_succeeds(self):
        # No -PLUS is offered without TLS, so a client that sends "y" is right.
        client = self.connect("smtp")
        client.ehlo()
        scram = sasl_support.ScramClient("SCRAM-SHA-256", "alice", PASSWORD,
                                         "y,,")
        self.assertEqual(run_scram(client, "SCRAM-SHA-256", scram), AUTH_OK)

    def test_n_flag_over_tls_succeeds(self):
        client = self.open_tls()
        scram = sasl_support.ScramClient("SCRAM-SHA-256", "alice", PASSWORD)
        self.assertEqual(run_scram(client, "SCRAM-SHA-256", scram), AUTH_OK)


class CancelTests(MechanismTestCase):
    """RFC 4954, section 4: "*" in place of a response cancels."""

    def assert_cancels(self, open_client, mechanisms):
        # A cancel counts toward the five failed AUTH commands after which
        # the server closes, so each mechanism gets its own connection.
        for mechanism in mechanisms:
            with self.subTest(mechanism):
                client = open_client()
                self.assertEqual(client.command(f"AUTH {mechanism}")[:4],
                                 b"334 ")
                self.assertEqual(client.command("*"), CANCELLED)
                self.assertEqual(client.command("NOOP"),
                                 b"250 2.0.0 OK\r\n")

    def open_clear(self):
        client = self.connect("smtp")
        client.ehlo()
        return client

    def test_cancel_at_first_challenge_over_tls(self):
        self.assert_cancels(self.open_tls, TLS_MECHANISMS)

    def test_cancel_at_first_challenge_in_clear(self):
        self.assert_cancels(self.open_clear, CLEAR_MECHANISMS)

    def test_cancel_scram_at_server_first(self):
        client = self.open_tls()
        scram = sasl_support.ScramClient("SCRAM-SHA-256", "alice", PASSWORD)
        reply = client.command(
            f"AUTH SCRAM-SHA-256 {b64(scram.client_first())}")
        self.assertEqual(reply[:4], b"334 ")
        self.assertEqual(client.command("*"), CANCELLED)

    def test_cancel_ntlm_at_challenge_message(self):
        # A NEGOTIATE_MESSAGE that requests UNICODE, REQUEST_TARGET and
        # NTLM, with empty domain and workstation fields ([MS-NLMP]
        # section 2.2.1.1).
        negotiate = b"NTLMSSP\0\x01\0\0\0\x05\x02\0\0" + b"\0" * 16
        client = self.open_tls()
        self.assertEqual(client.command("AUTH NTLM"), b"334 \r\n")
        reply = client.command(b64(negotiate))
        self.assertTrue(reply.startswith(b"334 TlRMTVNTUAAC"), reply)
        self.assertEqual(client.command("*"), CANCELLED)
        client.authenticate("alice", PASSWORD)


if __name__ == "__main__":
    unittest.main()
