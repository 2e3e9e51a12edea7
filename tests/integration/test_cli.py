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

    def test_mechanism_not_built_in_warns(self):
        config, result = self.check('[auth.smtp]\nCRAM-MD5 = "allow"\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("warning:", result.stderr)
        self.assertIn("auth.smtp.CRAM-MD5", result.stderr)

    def test_built_in_mechanism_does_not_warn(self):
        config, result = self.check('[auth.smtp]\nPLAIN = "allow"\n')
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
