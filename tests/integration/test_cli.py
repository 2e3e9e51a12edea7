"""The postern-server command line: check-config, user, cert, --version,
and the exit statuses of run."""

import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import tomllib
import unittest

import harness
from harness import run_cli

DEFAULT_LISTENERS = {
    "smtp": ("smtp", "127.0.0.1:2525", "starttls"),
    "submission": ("smtp", "127.0.0.1:2587", "starttls"),
    "submissions": ("smtp", "127.0.0.1:2465", "implicit"),
    "pop3": ("pop3", "127.0.0.1:2110", "starttls"),
    "pop3s": ("pop3", "127.0.0.1:2995", "implicit"),
}


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class TempFolderTestCase(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="postern-cli-")
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.folder, *parts)

    def write(self, name, text):
        path = self.path(name)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return path


class CheckConfigDefaultTests(TempFolderTestCase):
    def setUp(self):
        super().setUp()
        self.data_dir = self.path("data")
        self.result = run_cli("--data-dir", self.data_dir, "check-config")
        self.effective = tomllib.loads(self.result.stdout)

    def test_default_exits_zero(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def test_default_prints_listeners(self):
        listeners = {entry["name"]: (entry["protocol"], entry["address"],
                                     entry["tls"])
                     for entry in self.effective["listener"]}
        self.assertEqual(listeners, DEFAULT_LISTENERS)

    def test_default_listeners_untrusted(self):
        for entry in self.effective["listener"]:
            with self.subTest(listener=entry["name"]):
                self.assertIs(entry["trusted"], False)

    def test_default_auth_required_on_submission(self):
        required = {entry["name"]: entry["auth_required"]
                    for entry in self.effective["listener"]}
        self.assertEqual(required, {
            "smtp": False, "submission": True, "submissions": True,
            "pop3": False, "pop3s": False})

    def test_default_has_no_warnings(self):
        self.assertEqual(self.result.stderr, "")

    def test_default_paths_under_data_dir(self):
        self.assertEqual(self.effective["server"]["data_dir"], self.data_dir)
        self.assertEqual(self.effective["tls"]["certificate"],
                         self.path("data", "tls", "cert.pem"))
        self.assertEqual(self.effective["tls"]["private_key"],
                         self.path("data", "tls", "key.pem"))
        self.assertEqual(self.effective["directory"]["path"],
                         self.path("data", "users.sqlite"))

    def test_default_local_domains(self):
        server = self.effective["server"]
        self.assertEqual(server["local_domains"],
                         [server["identity"], "localhost"])
        self.assertEqual(self.effective["tls"]["names"],
                         [server["identity"]])

    def test_default_availability(self):
        cases = [
            ("smtp", "PLAIN", "tls"),
            ("smtp", "LOGIN", "tls"),
            ("smtp", "CRAM-MD5", "allow"),
            ("smtp", "SCRAM-SHA-1", "allow"),
            ("smtp", "SCRAM-SHA-256", "allow"),
            ("smtp", "NTLM", "allow"),
            ("pop3", "USER", "tls"),
            ("pop3", "APOP", "allow"),
            ("pop3", "PLAIN", "tls"),
        ]
        for protocol, mechanism, expected in cases:
            with self.subTest(protocol=protocol, mechanism=mechanism):
                self.assertEqual(
                    self.effective["auth"][protocol][mechanism], expected)

    def test_default_creates_nothing(self):
        self.assertFalse(os.path.exists(self.data_dir))

    def test_data_dir_after_command(self):
        result = run_cli("check-config", "--data-dir", self.data_dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, self.result.stdout)

    def test_output_reads_back_unchanged(self):
        config = self.write("effective.toml", self.result.stdout)
        again = run_cli("check-config", "--config", config)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(again.stdout, self.result.stdout)


class CheckConfigFileTests(TempFolderTestCase):
    def check(self, text):
        config = self.write("postern.toml", text)
        return config, run_cli("--config", config, "check-config")

    def assert_rejected(self, text, *fragments):
        config, result = self.check(text)
        self.assertEqual(result.returncode, 1, result.stderr)
        message = result.stderr.strip()
        self.assertTrue(message.startswith(config + ":"), message)
        self.assertEqual(len(message.splitlines()), 1, message)
        for fragment in fragments:
            self.assertIn(fragment, message)
        self.assertEqual(result.stdout, "")

    def test_full_example_accepted(self):
        config, result = self.check(FULL_EXAMPLE)
        self.assertEqual(result.returncode, 0, result.stderr)
        effective = tomllib.loads(result.stdout)
        self.assertEqual(effective["server"]["identity"], "mail.example.com")
        self.assertEqual(effective["server"]["data_dir"], self.path("data"))
        self.assertEqual(effective["tls"]["certificate"],
                         self.path("data", "tls", "cert.pem"))
        self.assertEqual(effective["tls"]["min_version"], "1.3")
        self.assertEqual(effective["assumption"],
                         [{"network": "192.0.2.0/24", "user": "alice"}])
        self.assertEqual(effective["relay"]["smarthost"],
                         "smtp.example.net:587")
        self.assertEqual(effective["auth"]["smtp"]["PLAIN"], "deny")
        self.assertEqual(effective["auth"]["smtp"]["LOGIN"], "tls")
        self.assertEqual([entry["name"] for entry in effective["listener"]],
                         ["smtp", "submission-v6"])
        self.assertEqual(effective["listener"][1]["address"], "[::1]:2587")

    def test_unknown_key_named(self):
        self.assert_rejected('[server]\nidentiy = "mail.test"\n',
                             "server.identiy", "unknown key")

    def test_unknown_table_named(self):
        self.assert_rejected("[servre]\n", "servre", "unknown table")

    def test_unknown_listener_key_named(self):
        self.assert_rejected(
            LISTENER.format(address="127.0.0.1:2525") + 'port = 25\n',
            "listener[0].port", "unknown key")

    def test_bad_availability_named(self):
        self.assert_rejected('[auth.smtp]\nPLAIN = "maybe"\n',
                             "auth.smtp.PLAIN", '"maybe"')

    def test_unknown_mechanism_named(self):
        self.assert_rejected('[auth.smtp]\nGSSAPI = "allow"\n',
                             "auth.smtp.GSSAPI", "unknown mechanism")

    def test_pop3_mechanism_rejected_for_smtp(self):
        self.assert_rejected('[auth.smtp]\nAPOP = "allow"\n',
                             "auth.smtp.APOP", "unknown mechanism")

    def test_bad_listener_addresses(self):
        cases = [
            ("no port", "127.0.0.1"),
            ("host name", "localhost:25"),
            ("port out of range", "127.0.0.1:65536"),
            ("port zero", "127.0.0.1:0"),
            ("bare IPv6", "::1:25"),
            ("IPv6 without port", "[::1]"),
            ("letters in port", "127.0.0.1:smtp"),
            ("empty", ""),
        ]
        for label, address in cases:
            with self.subTest(label):
                self.assert_rejected(LISTENER.format(address=address),
                                     "listener[0].address",
                                     f'"{address}"')

    def test_duplicate_listener_name(self):
        self.assert_rejected(
            LISTENER.format(address="127.0.0.1:2525") +
            LISTENER.format(address="127.0.0.1:2526"),
            "listener[1].name", "duplicate")

    def test_duplicate_listener_address(self):
        text = LISTENER.format(address="127.0.0.1:2525") + \
            LISTENER.format(address="127.0.0.1:2525").replace(
                '"smtp"\nprotocol', '"other"\nprotocol')
        self.assert_rejected(text, "listener[1].address", "already used")

    def test_bad_values_named(self):
        cases = [
            ("tls mode", LISTENER.format(address="127.0.0.1:1").replace(
                'tls = "starttls"', 'tls = "sometimes"'),
             "listener[0].tls"),
            ("protocol", LISTENER.format(address="127.0.0.1:1").replace(
                'protocol = "smtp"', 'protocol = "imap"'),
             "listener[0].protocol"),
            ("identity", '[server]\nidentity = "bad name"\n',
             "server.identity"),
            ("local domain", '[server]\nlocal_domains = ["a b"]\n',
             "server.local_domains"),
            ("min_version", '[tls]\nmin_version = "1.4"\n',
             "tls.min_version"),
            ("certificate name", '[tls]\nnames = ["*.com"]\n', "tls.names"),
            ("directory kind", '[directory]\nkind = "ldap"\n',
             "directory.kind"),
            ("network", '[[assumption]]\nnetwork = "192.0.2.1/24"\n'
             'user = "alice"\n', "assumption[0].network"),
            ("assumed user", '[[assumption]]\nnetwork = "192.0.2.0/24"\n'
             'user = "a/b"\n', "assumption[0].user"),
            ("string type", '[server]\nidentity = 5\n', "server.identity"),
            ("message size", '[server]\nmax_message_size = 0\n',
             "server.max_message_size"),
        ]
        for label, text, key in cases:
            with self.subTest(label):
                self.assert_rejected(text, key)

    def test_syntax_error_names_line(self):
        config, result = self.check('[server]\nidentity = "x\n')
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, "^" + re.escape(config) + r":2:")

    def test_missing_file(self):
        result = run_cli("--config", self.path("absent.toml"),
                         "check-config")
        self.assertEqual(result.returncode, 1)
        self.assertIn(self.path("absent.toml"), result.stderr)

    def test_missing_certificate_without_generate(self):
        self.assert_rejected(
            '[tls]\ngenerate = false\ncertificate = "none.pem"\n',
            "tls.certificate", "not found")

    def test_every_known_mechanism_built_in(self):
        # The server compiles in every mechanism its configuration names,
        # so enabling each of them draws no "not built in" warning. "tls"
        # keeps PLAIN, LOGIN and USER clear of the warning about passwords
        # sent in clear.
        smtp = ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
                "SCRAM-SHA-1", "CRAM-MD5", "NTLM", "PLAIN", "LOGIN")
        pop3 = smtp + ("USER", "APOP")
        text = ("[auth.smtp]\n"
                + "".join(f'{name} = "tls"\n' for name in smtp)
                + "[auth.pop3]\n"
                + "".join(f'{name} = "tls"\n' for name in pop3))
        config, result = self.check(text)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")

    def test_built_in_mechanism_does_not_warn(self):
        config, result = self.check('[auth.smtp]\nLOGIN = "tls"\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")

    def test_relative_data_dir_follows_config_file(self):
        config, result = self.check('[server]\ndata_dir = "spool"\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        effective = tomllib.loads(result.stdout)
        self.assertEqual(effective["server"]["data_dir"], self.path("spool"))

    def test_data_dir_option_wins(self):
        config = self.write("postern.toml", '[server]\ndata_dir = "spool"\n')
        result = run_cli("--config", config, "--data-dir",
                         self.path("other"), "check-config")
        self.assertEqual(result.returncode, 0, result.stderr)
        effective = tomllib.loads(result.stdout)
        self.assertEqual(effective["server"]["data_dir"], self.path("other"))

    # auth_required

    def listeners_of(self, text):
        config, result = self.check(text)
        self.assertEqual(result.returncode, 0, result.stderr)
        return tomllib.loads(result.stdout)["listener"]

    def test_auth_required_defaults_false(self):
        listeners = self.listeners_of(
            LISTENER.format(address="127.0.0.1:2525").replace(
                '"smtp"\nprotocol', '"submission"\nprotocol'))
        self.assertIs(listeners[0]["auth_required"], False)

    def test_auth_required_read(self):
        listeners = self.listeners_of(
            LISTENER.format(address="127.0.0.1:2525") +
            "auth_required = true\n")
        self.assertIs(listeners[0]["auth_required"], True)

    def test_auth_required_rejected_for_pop3(self):
        text = LISTENER.format(address="127.0.0.1:2110").replace(
            'protocol = "smtp"', 'protocol = "pop3"')
        self.assert_rejected(text + "auth_required = true\n",
                             "listener[0].auth_required", "POP3")

    def test_auth_required_false_accepted_for_pop3(self):
        text = LISTENER.format(address="127.0.0.1:2110").replace(
            'protocol = "smtp"', 'protocol = "pop3"')
        listeners = self.listeners_of(text + "auth_required = false\n")
        self.assertIs(listeners[0]["auth_required"], False)

    def test_auth_required_needs_boolean(self):
        self.assert_rejected(
            LISTENER.format(address="127.0.0.1:2525") +
            'auth_required = "yes"\n',
            "listener[0].auth_required", "expected true or false")

    # Warnings about valid but risky settings

    def assert_warns(self, text, key, reason_fragment):
        """Check that `text` loads with status 0 and exactly one warning,
        on `key`, whose message contains `reason_fragment`."""
        config, result = self.check(text)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotEqual(result.stdout, "")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(
            lines[0].startswith(f"warning: {config}: {key}: "), lines[0])
        self.assertIn(reason_fragment, lines[0])

    def assert_no_warning(self, text):
        config, result = self.check(text)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")

    def test_broad_assumption_warns(self):
        cases = [
            ("IPv4, every address", "0.0.0.0/0", "open relay"),
            ("IPv6, every address", "::/0", "open relay"),
            ("IPv4-mapped, every address", "::ffff:0.0.0.0/96",
             "open relay"),
            ("IPv4 /7", "10.0.0.0/7", "shorter than /8"),
            ("IPv4 /1", "128.0.0.0/1", "shorter than /8"),
            ("IPv6 /31", "2001:db8::/31", "shorter than /32"),
        ]
        for label, network, fragment in cases:
            with self.subTest(label):
                self.assert_warns(ASSUMPTION.format(network=network),
                                  "assumption[0].network", fragment)

    def test_narrow_assumption_does_not_warn(self):
        for network in ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7",
                        "::ffff:10.0.0.0/104"):
            with self.subTest(network=network):
                self.assert_no_warning(ASSUMPTION.format(network=network))

    def test_cleartext_password_mechanism_warns(self):
        starttls_pop3 = ("[[listener]]\nname = \"pop3\"\n"
                         "protocol = \"pop3\"\n"
                         "address = \"127.0.0.1:2110\"\n")
        cases = [
            ("PLAIN on the default listeners",
             '[auth.smtp]\nPLAIN = "allow"\n', "auth.smtp.PLAIN"),
            ("LOGIN in lower case", '[auth.smtp]\nlogin = "allow"\n',
             "auth.smtp.LOGIN"),
            ("USER", '[auth.pop3]\nUSER = "allow"\n', "auth.pop3.USER"),
            ("POP3 PLAIN", '[auth.pop3]\nPLAIN = "allow"\n',
             "auth.pop3.PLAIN"),
            ("listener without TLS",
             LISTENER.format(address="127.0.0.1:2525").replace(
                 'tls = "starttls"', 'tls = "none"') +
             '[auth.smtp]\nPLAIN = "allow"\n', "auth.smtp.PLAIN"),
            ("POP3 listener with STLS", starttls_pop3 +
             '[auth.pop3]\nUSER = "allow"\n', "auth.pop3.USER"),
        ]
        for label, text, key in cases:
            with self.subTest(label):
                self.assert_warns(text, key,
                                  "passwords may cross the network in "
                                  "clear")

    def test_protected_passwords_do_not_warn(self):
        smtps = LISTENER.format(address="127.0.0.1:2465").replace(
            'tls = "starttls"', 'tls = "implicit"')
        pop3 = LISTENER.format(address="127.0.0.1:2110").replace(
            '"smtp"\nprotocol = "smtp"', '"pop3"\nprotocol = "pop3"')
        cases = [
            ("implicit TLS only",
             smtps + '[auth.smtp]\nPLAIN = "allow"\nLOGIN = "allow"\n'),
            ("other protocol without TLS",
             smtps + pop3 + '[auth.smtp]\nPLAIN = "allow"\n'),
            ("tls availability", '[auth.smtp]\nPLAIN = "tls"\n'
             '[auth.pop3]\nUSER = "tls"\n'),
            ("challenge-response mechanism",
             '[auth.pop3]\nAPOP = "allow"\n'),
        ]
        for label, text in cases:
            with self.subTest(label):
                self.assert_no_warning(text)

    def test_old_tls_version_warns(self):
        for version in ("1.0", "1.1"):
            with self.subTest(version=version):
                self.assert_warns(f'[tls]\nmin_version = "{version}"\n',
                                  "tls.min_version", "below 1.2")

    def test_current_tls_version_does_not_warn(self):
        for version in ("1.2", "1.3"):
            with self.subTest(version=version):
                self.assert_no_warning(f'[tls]\nmin_version = "{version}"\n')

    def test_large_message_size_warns(self):
        for size in (104857601, 1073741824):
            with self.subTest(size=size):
                self.assert_warns(f"[server]\nmax_message_size = {size}\n",
                                  "server.max_message_size", "in memory")

    def test_100_mib_size_does_not_warn(self):
        self.assert_no_warning("[server]\nmax_message_size = 104857600\n")

    def test_message_size_over_1_gib_rejected(self):
        for size in (1073741825, 2 ** 62):
            with self.subTest(size=size):
                self.assert_rejected(
                    f"[server]\nmax_message_size = {size}\n",
                    "server.max_message_size", "1073741824")

    def test_ip_address_certificate_name_accepted(self):
        config, result = self.check(
            '[tls]\nnames = ["mail.test", "127.0.0.1", "::1"]\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(tomllib.loads(result.stdout)["tls"]["names"],
                         ["mail.test", "127.0.0.1", "::1"])

    def test_ip_address_wildcard_name_rejected(self):
        self.assert_rejected('[tls]\nnames = ["*.127.0.0.1"]\n',
                             "tls.names", '"*.127.0.0.1"')


class UserCommandTests(TempFolderTestCase):
    def user(self, *args, input=None):
        return run_cli("--data-dir", self.path("data"), "user", *args,
                       input=input)

    def assert_status(self, result, status):
        self.assertEqual(result.returncode, status,
                         f"stdout: {result.stdout!r} stderr: {result.stderr!r}")

    def test_round_trip(self):
        self.assert_status(
            self.user("add", "alice", "--password-stdin", input="pw1\n"), 0)
        self.assert_status(
            self.user("add", "bob", "--password-stdin", input="pw2\r\n"), 0)

        listed = self.user("list")
        self.assert_status(listed, 0)
        self.assertEqual(listed.stdout, "alice\nbob\n")

        self.assert_status(
            self.user("passwd", "alice", "--password-stdin", input="new\n"),
            0)
        self.assert_status(self.user("remove", "alice"), 0)

        listed = self.user("list")
        self.assert_status(listed, 0)
        self.assertEqual(listed.stdout, "bob\n")

    def test_list_empty(self):
        listed = self.user("list")
        self.assert_status(listed, 0)
        self.assertEqual(listed.stdout, "")

    def test_database_private(self):
        self.assert_status(
            self.user("add", "alice", "--password-stdin", input="pw\n"), 0)
        self.assertEqual(mode_of(self.path("data")), 0o700)
        self.assertEqual(mode_of(self.path("data", "users.sqlite")), 0o600)

    def test_duplicate_add_fails(self):
        self.assert_status(
            self.user("add", "alice", "--password-stdin", input="pw\n"), 0)
        again = self.user("add", "alice", "--password-stdin", input="pw\n")
        self.assert_status(again, 1)
        self.assertIn("alice", again.stderr)
        self.assertIn("exists", again.stderr)

    def test_invalid_names_fail(self):
        for name in ("a/b", "..", "-alice", "al ice", "x" * 65, "é"):
            with self.subTest(name=name):
                # "--" ends the options, so "-alice" is taken as a name.
                result = self.user("add", "--password-stdin", "--", name,
                                   input="pw\n")
                self.assert_status(result, 1)
                self.assertIn("invalid user name", result.stderr)

    def test_unknown_user_fails(self):
        cases = [
            ("passwd", ("passwd", "nobody", "--password-stdin")),
            ("remove", ("remove", "nobody")),
        ]
        for label, args in cases:
            with self.subTest(label):
                result = self.user(*args, input="pw\n")
                self.assert_status(result, 1)
                self.assertIn("nobody", result.stderr)
                self.assertIn("not found", result.stderr)

    def test_empty_password_rejected(self):
        for label, text in (("empty line", "\n"), ("no input", "")):
            with self.subTest(label):
                result = self.user("add", "alice", "--password-stdin",
                                   input=text)
                self.assert_status(result, 1)
        self.assertEqual(self.user("list").stdout, "")

    def user_bytes(self, *args, input):
        """Run a user command with `input` (bytes) on standard input;
        stdout and stderr are bytes too."""
        return subprocess.run(
            [harness.SERVER, "--data-dir", self.path("data"), "user", *args],
            input=input, capture_output=True, timeout=60, check=False)

    def test_unusable_passwords_rejected(self):
        too_long = "password is longer than 255 octets"
        not_utf8 = "password is not valid UTF-8"
        control = "password contains a control character"
        cases = [
            ("empty", b"", "password is empty"),
            ("256 ASCII octets", b"a" * 256, too_long),
            ("128 two-octet characters", "\u00e9".encode() * 128, too_long),
            ("lone continuation octet", b"pw\x80", not_utf8),
            ("invalid octet", b"pw\xff", not_utf8),
            ("overlong slash", b"pw\xc0\xaf", not_utf8),
            ("surrogate", b"pw\xed\xa0\x80", not_utf8),
            ("above U+10FFFF", b"pw\xf4\x90\x80\x80", not_utf8),
            ("cut sequence", b"pw\xc3", not_utf8),
            ("NUL", b"p\x00w", control),
            ("tab", b"p\tw", control),
            ("CR inside", b"p\rw", control),
            ("escape", b"p\x1bw", control),
            ("DEL", b"p\x7fw", control),
            # RFC 5802, section 2.2, prepares SCRAM passwords as SASLprep
            # stored strings, which must not contain code points that
            # Unicode 3.2 leaves unassigned, such as U+1F511.
            ("unassigned code point", "pw\U0001f511".encode(),
             "password is not valid for SCRAM (SASLprep, RFC 4013)"),
        ]
        for label, password, message in cases:
            with self.subTest(label):
                result = self.user_bytes("add", "alice", "--password-stdin",
                                         input=password + b"\n")
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn(message, result.stderr.decode())
        self.assertEqual(self.user("list").stdout, "")

    def test_passwd_rejects_unusable_password(self):
        self.assert_status(
            self.user("add", "alice", "--password-stdin", input="pw\n"), 0)
        result = self.user("passwd", "alice", "--password-stdin",
                           input="x" * 256 + "\n")
        self.assert_status(result, 1)
        self.assertIn("password is longer than 255 octets", result.stderr)

    def test_usable_passwords_accepted(self):
        cases = [
            ("255 octets", "\u00e9" * 127 + "a"),
            ("one octet", "x"),
            ("spaces", " correct horse battery staple "),
            # U+1D11E is outside the Basic Multilingual Plane but, unlike
            # most emoji, assigned in Unicode 3.2, which SASLprep uses.
            ("non-ASCII", "p\u00e4ssw\u00f6rd \u2603 \U0001d11e"),
        ]
        for index, (label, password) in enumerate(cases):
            with self.subTest(label):
                result = self.user("add", f"user{index}", "--password-stdin",
                                   input=password + "\n")
                self.assert_status(result, 0)

    def test_rejected_password_not_printed(self):
        password = b"Secret-Value\x01" + b"z" * 20
        result = self.user_bytes("add", "alice", "--password-stdin",
                                 input=password + b"\n")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertNotIn(b"Secret-Value", result.stderr)
        self.assertNotIn(b"zzzz", result.stderr)

    def test_unusable_override_rejected(self):
        cases = [
            ("256 octets", b"o" * 256,
             "POP3 override password is longer than 255 octets"),
            ("invalid UTF-8", b"\xff",
             "POP3 override password is not valid UTF-8"),
            ("control character", b"o\x00o",
             "POP3 override password contains a control character"),
        ]
        for label, override, message in cases:
            with self.subTest(label):
                result = self.user_bytes(
                    "add", "alice", "--password-stdin",
                    "--pop3-override-stdin",
                    input=b"pw\n" + override + b"\n")
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn(message, result.stderr.decode())
        self.assertEqual(self.user("list").stdout, "")

    def test_override_from_second_line(self):
        result = self.user("add", "alice", "--password-stdin",
                           "--pop3-override-stdin", input="pw\npop\n")
        self.assert_status(result, 0)

    def test_missing_override_line_fails(self):
        result = self.user("add", "alice", "--password-stdin",
                           "--pop3-override-stdin", input="pw\n")
        self.assert_status(result, 1)
        self.assertIn("POP3 override", result.stderr)
        self.assertEqual(self.user("list").stdout, "")

    def test_override_needs_password_stdin(self):
        result = self.user("add", "alice", "--pop3-override-stdin",
                           input="pw\npop\n")
        self.assert_status(result, 1)

    def test_apop_warns_of_plaintext(self):
        result = self.user("add", "alice", "--password-stdin", "--apop",
                           input="pw\n")
        self.assert_status(result, 0)
        self.assertIn("warning:", result.stderr)
        self.assertIn("plaintext", result.stderr)

    def test_no_terminal_without_password_stdin(self):
        result = subprocess.run(
            [harness.SERVER, "--data-dir", self.path("data"), "user", "add",
             "alice"],
            input="", capture_output=True, text=True, timeout=60,
            start_new_session=True)
        self.assert_status(result, 1)
        self.assertIn("--password-stdin", result.stderr)

    def test_config_option_after_command(self):
        config = self.write(
            "postern.toml",
            f'[server]\ndata_dir = {harness.toml_string(self.path("d"))}\n')
        result = run_cli("user", "add", "alice", "--config", config,
                         "--password-stdin", input="pw\n")
        self.assert_status(result, 0)
        self.assertTrue(os.path.exists(self.path("d", "users.sqlite")))

    def test_unsupported_directory_kind(self):
        config = self.write("postern.toml", '[directory]\nkind = "pam"\n')
        checked = run_cli("--config", config, "check-config")
        self.assert_status(checked, 0)
        listed = run_cli("--config", config, "user", "list")
        self.assert_status(listed, 1)
        self.assertIn("directory.kind", listed.stderr)


class CertCommandTests(TempFolderTestCase):
    def subject_alt_names(self, certificate):
        result = subprocess.run(
            ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
             certificate],
            capture_output=True, text=True, timeout=60, check=True)
        return re.findall(r"DNS:([^,\s]+)", result.stdout)

    def test_identity_and_wildcard(self):
        out = self.path("certs")
        result = run_cli("--data-dir", self.path("data"), "cert", "generate",
                         "--identity", "mail.test", "--wildcard",
                         "test.example", "--out", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        certificate = os.path.join(out, "cert.pem")
        key = os.path.join(out, "key.pem")
        self.assertEqual(result.stdout, f"{certificate}\n{key}\n")
        self.assertEqual(self.subject_alt_names(certificate),
                         ["mail.test", "*.test.example"])
        self.assertEqual(mode_of(key), 0o600)

    def test_default_out_is_data_tls(self):
        config = self.write(
            "postern.toml",
            '[server]\nidentity = "mail.test"\n'
            f'data_dir = {harness.toml_string(self.path("data"))}\n')
        result = run_cli("--config", config, "cert", "generate")
        self.assertEqual(result.returncode, 0, result.stderr)
        certificate = self.path("data", "tls", "cert.pem")
        key = self.path("data", "tls", "key.pem")
        self.assertEqual(result.stdout, f"{certificate}\n{key}\n")
        self.assertEqual(self.subject_alt_names(certificate), ["mail.test"])
        self.assertEqual(mode_of(key), 0o600)

    def test_invalid_names_fail(self):
        cases = [
            ("space in identity", ("--identity", "bad name")),
            ("wildcard of a top-level domain", ("--wildcard", "com")),
        ]
        for label, args in cases:
            with self.subTest(label):
                result = run_cli("--data-dir", self.path("data"), "cert",
                                 "generate", *args, "--out",
                                 self.path("out"))
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn("invalid certificate name", result.stderr)
                self.assertFalse(os.path.exists(self.path("out", "key.pem")))

    def san_entries(self, certificate):
        """Return the subjectAltName entries as openssl prints them, such
        as "DNS:mail.test" and "IP Address:127.0.0.1"."""
        result = subprocess.run(
            ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
             certificate],
            capture_output=True, text=True, timeout=60, check=True)
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 2, result.stdout)
        return lines[1].strip().split(", ")

    def test_ip_identity_gets_ip_address_entry(self):
        cases = [
            ("IPv4", "127.0.0.1", ["IP Address:127.0.0.1"]),
            ("IPv6", "::1", ["IP Address:0:0:0:0:0:0:0:1"]),
            ("IPv6 documentation", "2001:db8::25",
             ["IP Address:2001:DB8:0:0:0:0:0:25"]),
        ]
        for label, identity, expected in cases:
            with self.subTest(label):
                out = self.path("certs-" + label.replace(" ", "-"))
                result = run_cli("--data-dir", self.path("data"), "cert",
                                 "generate", "--identity", identity,
                                 "--out", out)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(
                    self.san_entries(os.path.join(out, "cert.pem")),
                    expected)

    def test_ip_and_dns_names_from_config(self):
        config = self.write(
            "postern.toml",
            '[server]\nidentity = "mail.test"\n'
            f'data_dir = {harness.toml_string(self.path("data"))}\n'
            '[tls]\nnames = ["mail.test", "192.0.2.25"]\n')
        result = run_cli("--config", config, "cert", "generate")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(
            self.san_entries(self.path("data", "tls", "cert.pem")),
            ["DNS:mail.test", "IP Address:192.0.2.25"])

    def test_wildcard_of_ip_address_rejected(self):
        for address in ("127.0.0.1", "::1", "*.192.0.2.1"):
            with self.subTest(address=address):
                result = run_cli("--data-dir", self.path("data"), "cert",
                                 "generate", "--wildcard", address, "--out",
                                 self.path("out"))
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn("IP address", result.stderr)
                self.assertFalse(os.path.exists(self.path("out")))


class GeneralOptionTests(unittest.TestCase):
    def test_version(self):
        result = run_cli("--version")
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^postern-server \d+\.\d+\.\d+\n$")

    def test_help_lists_commands(self):
        result = run_cli("--help")
        self.assertEqual(result.returncode, 0)
        for command in ("run", "check-config", "user", "cert"):
            with self.subTest(command=command):
                self.assertIn(command, result.stdout)

    def test_unknown_command_fails(self):
        result = run_cli("frobnicate")
        self.assertEqual(result.returncode, 1)


class RequiredAuthListener(harness.Listener):
    """A listener with auth_required = true, which harness.Listener does
    not write."""

    def to_toml(self):
        return super().to_toml() + "auth_required = true\n"


class RunStatusTests(unittest.TestCase):
    def test_start_and_stop(self):
        with harness.Server() as server:
            server.start()
            self.assertEqual(server.stop(), 0, server.log_text())
            log = server.log_text()
            for name in ("smtp", "submission", "submissions"):
                with self.subTest(listener=name):
                    self.assertIn(
                        f"info event=listening listener={name} "
                        f"address=127.0.0.1:{server.port(name)}", log)
            self.assertIn("info event=started", log)
            self.assertIn("info event=stopping", log)
            self.assertIn("info event=stopped", log)

    def test_pop3_listeners_served(self):
        with harness.Server() as server:
            server.start()
            server.stop()
            log = server.log_text()
            for name in ("pop3", "pop3s"):
                with self.subTest(listener=name):
                    self.assertIn(
                        f"info event=listening listener={name} "
                        f"address=127.0.0.1:{server.port(name)}", log)

    def test_data_folders_private(self):
        with harness.Server() as server:
            server.start()
            server.stop()
            for folder in ("", "mail", "queue", "tls"):
                with self.subTest(folder=folder):
                    path = os.path.join(server.data_dir, folder)
                    self.assertEqual(mode_of(path), 0o700)
            key = os.path.join(server.data_dir, "tls", "key.pem")
            self.assertEqual(mode_of(key), 0o600)

    def test_port_in_use_exits_two(self):
        with socket.socket() as blocker, harness.Server() as server:
            blocker.bind(("127.0.0.1", server.port("submission")))
            blocker.listen()
            result = server.cli("run")
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("submission", result.stderr)
            self.assertIn(f"127.0.0.1:{server.port('submission')}",
                          result.stderr)

    def test_bad_config_exits_one(self):
        with harness.Server(extra_config="[nonsense]\n") as server:
            result = server.cli("run")
            self.assertEqual(result.returncode, 1)
            self.assertIn("nonsense", result.stderr)
            self.assertFalse(os.path.exists(server.data_dir))

    def test_port_in_use_creates_nothing(self):
        # The last listener of the file, so every other one could bind.
        with socket.socket() as blocker, harness.Server() as server:
            blocker.bind(("127.0.0.1", server.port("pop3s")))
            blocker.listen()
            result = server.cli("run")
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn(f"127.0.0.1:{server.port('pop3s')}",
                          result.stderr)
            self.assertFalse(os.path.exists(server.data_dir))

    def test_unsupported_directory_creates_nothing(self):
        with harness.Server(
                extra_config='[directory]\nkind = "pam"\n') as server:
            result = server.cli("run")
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertIn("directory.kind", result.stderr)
            self.assertFalse(os.path.exists(server.data_dir))

    def test_config_warnings_logged(self):
        with harness.Server(assumptions=[("0.0.0.0/0", "alice")],
                            smtp_auth={"PLAIN": "allow"}) as server:
            server.add_user("alice", "pw")
            server.start()
            self.assertEqual(server.stop(), 0, server.log_text())
            lines = server.log_text().splitlines()
            for key, reason in (("assumption[0].network", "open-relay"),
                                ("auth.smtp.PLAIN", "cleartext-password")):
                with self.subTest(key=key):
                    self.assertIn(
                        f"warning event=config key={key} reason={reason}",
                        lines)

    def test_auth_required_listener_rejects_mail(self):
        strict = RequiredAuthListener("strict", "smtp", "none")
        with harness.Server(extra_listeners=[strict]) as server:
            server.add_user("alice", "pw")
            server.start()
            cases = [
                ("strict", b"530 5.7.0 Authentication required\r\n"),
                ("smtp", b"250 2.1.0 Sender OK\r\n"),
            ]
            for listener, expected in cases:
                with self.subTest(listener=listener):
                    client = harness.SmtpClient(server.port(listener))
                    self.addCleanup(client.close)
                    client.read_reply()
                    client.ehlo()
                    reply = client.command("MAIL FROM:<a@example.org>")
                    self.assertEqual(reply, expected)


class LogFormatTests(harness.ServerTestCase):
    """The log sink caps and escapes what clients send. MAIL FROM is a
    client value that the delivered event logs."""

    def deliver_from(self, reverse_path):
        address = ("127.0.0.1", self.server.port("smtp"))
        with socket.create_connection(address, timeout=10) as connection:
            replies = connection.makefile("rb")
            replies.readline()
            for command in (b"HELO client.test",
                            b"MAIL FROM:<" + reverse_path + b">",
                            b"RCPT TO:<alice@mail.test>", b"DATA",
                            b"Subject: log\r\n\r\nbody\r\n.", b"QUIT"):
                connection.sendall(command + b"\r\n")
                reply = replies.readline()
                self.assertRegex(reply, rb"^[23]", command)
        self.server.stop()
        return [line for line in self.server.log_text().splitlines()
                if "event=delivered" in line]

    def setUp(self):
        super().setUp()
        self.server.add_user("alice", "pw")

    def test_quotes_spaces_escaped(self):
        lines = self.deliver_from(b'"a b=\\"c"@example.org')
        self.assertEqual(len(lines), 1, self.server.log_text())
        self.assertIn(r" from=\x22a\x20b\x3D\x5C\x22c\x22@example.org ",
                      lines[0])

    def test_long_value_capped(self):
        domain = ".".join(letter * 60 for letter in "bcde") + ".example"
        lines = self.deliver_from(b"a@" + domain.encode())
        self.assertEqual(len(lines), 1, self.server.log_text())
        value = re.search(r" from=(\S*)", lines[0]).group(1)
        self.assertEqual(len(value), 200)
        self.assertEqual(value, ("a@" + domain)[:197] + "...")


LISTENER = """
[[listener]]
name = "smtp"
protocol = "smtp"
address = "{address}"
tls = "starttls"
"""
ASSUMPTION = """
[[assumption]]
network = "{network}"
user = "alice"
"""

FULL_EXAMPLE = """
[server]
identity = "mail.example.com"
data_dir = "data"
local_domains = ["example.com"]

[tls]
certificate = "tls/cert.pem"
private_key = "tls/key.pem"
generate = true
names = ["*.example.com"]
min_version = "1.3"

[[listener]]
name = "smtp"
protocol = "smtp"
address = "0.0.0.0:25"
tls = "starttls"
trusted = false

[[listener]]
name = "submission-v6"
protocol = "smtp"
address = "[::1]:2587"
tls = "none"
trusted = true

[auth.smtp]
PLAIN = "deny"
LOGIN = "tls"

[auth.pop3]
USER = "tls"
PLAIN = "tls"

[directory]
kind = "sqlite"
path = "users.sqlite"

[[assumption]]
network = "192.0.2.0/24"
user = "alice"

[relay]
smarthost = "smtp.example.net:587"
"""


if __name__ == "__main__":
    unittest.main()
