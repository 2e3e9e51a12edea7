"""check-config warns about mechanisms the configured directory cannot
serve: the operating system's directory (PAM) checks passwords only."""

import os
import tempfile
import unittest

import harness


class UnsuppliedSecretTests(unittest.TestCase):

    def check_config(self, directory_kind):
        with tempfile.TemporaryDirectory(prefix="postern-cli-") as folder:
            path = os.path.join(folder, "postern.toml")
            with open(path, "w") as config:
                config.write(f'[server]\ndata_dir = "{folder}"\n\n'
                             f'[directory]\nkind = "{directory_kind}"\n')
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


if __name__ == "__main__":
    unittest.main()
