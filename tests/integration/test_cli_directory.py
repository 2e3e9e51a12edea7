"""check-config and user add warn about authentication settings that
weaken security: mechanisms the directory cannot serve, NTLMv1, and
plaintext override passwords."""

import os
import tempfile
import unittest

import harness


class UnsuppliedSecretTests(unittest.TestCase):

    def check_config(self, directory_kind, extra=""):
        with tempfile.TemporaryDirectory(prefix="postern-cli-") as folder:
            path = os.path.join(folder, "postern.toml")
            with open(path, "w") as config:
                config.write(f'[server]\ndata_dir = "{folder}"\n\n'
                             f'[directory]\nkind = "{directory_kind}"\n'
                             + extra)
            return harness.run_cli("check-config", "--config", path)

    def test_pam_cannot_serve_scram_or_ntlm(self):
        result = self.check_config("pam")
        self.assertEqual(result.returncode, 0, result.stderr)
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "NTLM"):
            with self.subTest(mechanism=mechanism):
                self.assertIn(
                    f"auth.smtp.{mechanism}: {mechanism} needs a stored "
                    f"secret that the pam directory cannot supply, so it "
                    f"will not be offered", result.stderr)
        # CRAM-MD5 and APOP still work with a POP3 override password.
        self.assertNotIn("auth.smtp.CRAM-MD5", result.stderr)
        self.assertNotIn("auth.pop3.APOP", result.stderr)

    def test_sqlite_serves_every_mechanism(self):
        result = self.check_config("sqlite")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("cannot supply", result.stderr)


    def test_ntlm_v1_warns(self):
        result = self.check_config("sqlite", "\n[auth]\nntlm_v1 = true\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("auth.ntlm_v1: NTLMv1 and NTLM2 session responses are "
                      "accepted", result.stderr)
        quiet = self.check_config("sqlite", "\n[auth]\nntlm_v1 = false\n")
        self.assertNotIn("ntlm_v1", quiet.stderr)


class OverridePasswordWarningTests(unittest.TestCase):

    def test_override_plaintext_warned(self):
        with tempfile.TemporaryDirectory(prefix="postern-cli-") as folder:
            result = harness.run_cli(
                "user", "add", "carol", "--password-stdin",
                "--pop3-override-stdin", "--data-dir", folder,
                input="account secret\npop secret\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("warning: the POP3 override password of carol is "
                      "stored in plaintext", result.stderr)
        self.assertNotIn("pop secret", result.stderr)


if __name__ == "__main__":
    unittest.main()
