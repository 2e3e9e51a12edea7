"""Client sides of SASL mechanisms that no installed client runs as the
integration tests need them. SCRAM (RFC 5802) with channel binding,
CRAM-MD5 (RFC 2195) and a reader of NTLM AUTHENTICATE_MESSAGEs
([MS-NLMP]) are here. So is an `openssl s_client` session that exports
the tls-exporter channel binding (RFC 9266), which Python 3.11's ssl
module cannot, and a runner for the command-line mail clients. Standard
library only."""

import base64
import hashlib
import hmac
import os
import re
import select
import struct
import subprocess
import time

import harness

CLIENT_TIMEOUT = 30

# The hash of each SCRAM mechanism, as hashlib names it (RFC 5802 and
# RFC 7677). The -PLUS variants use the same hash.
SCRAM_HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}

# The log note of an NTLM exchange refused because it used NTLMv1. The
# server writes spaces in log values as \x20.
NTLMV1_DISABLED_LOG = (r"event=auth mechanism=NTLM user=alice "
                       r"result=failed note=NTLMv1\x20is\x20disabled"
                       r"\x20(setting\x20ntlm_v1)")

# base64 of "NTLMSSP\0" and the message type 3, the start of every
# AUTHENTICATE_MESSAGE ([MS-NLMP] section 2.2.1.3).
AUTHENTICATE_PREFIX = "TlRMTVNTUAAD"

# The length of an NTLMv1 NtChallengeResponse ([MS-NLMP] section 2.2.2.6).
# An NTLMv2 response is longer, because it carries the client's blob.
NTLMV1_RESPONSE_OCTETS = 24


def b64(data):
    """Return the base64 encoding of bytes or UTF-8 text as ASCII text."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    """Decode a base64 payload of a 334 or "+ " line into bytes."""
    return base64.b64decode(text.strip(), validate=True)


def scram_name(name):
    """Escape a SCRAM user name: "=" as "=3D" and "," as "=2C" (RFC 5802,
    section 5.1)."""
    return name.replace("=", "=3D").replace(",", "=2C")


class ScramClient:
    """The client of one SCRAM exchange (RFC 5802, section 3).

    gs2_header: "n,," (no channel binding), "y,," (client could bind but
        saw no -PLUS offer) or "p=TYPE,," (binding of TYPE).
    binding_data: the channel binding data that c= carries after the GS2
        header; empty unless the header starts with "p=".
    The passwords of the tests are ASCII, which SASLprep leaves as is, so
    the client does not prepare them.
    """

    def __init__(self, mechanism, user, password, gs2_header="n,,",
                 binding_data=b""):
        self.hash = SCRAM_HASHES[mechanism.removesuffix("-PLUS")]
        self.password = password.encode("utf-8")
        self.gs2_header = gs2_header
        self.binding_data = binding_data
        self.nonce = b64(os.urandom(18))
        self.first_bare = f"n={scram_name(user)},r={self.nonce}"
        self.server_signature = None

    def client_first(self):
        return self.gs2_header + self.first_bare

    def client_final(self, server_first):
        """Return the client-final-message for the server-first-message
        (text), and keep the ServerSignature it expects."""
        attributes = dict(part.split("=", 1)
                          for part in server_first.split(","))
        if not attributes["r"].startswith(self.nonce):
            raise AssertionError(f"server nonce {attributes['r']!r} does "
                                 f"not extend {self.nonce!r}")
        salted = hashlib.pbkdf2_hmac(
            self.hash, self.password, base64.b64decode(attributes["s"]),
            int(attributes["i"]))
        client_key = self._hmac(salted, b"Client Key")
        stored_key = hashlib.new(self.hash, client_key).digest()
        binding = b64(self.gs2_header.encode("ascii") + self.binding_data)
        without_proof = f"c={binding},r={attributes['r']}"
        auth_message = ",".join(
            (self.first_bare, server_first, without_proof)).encode("utf-8")
        signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = self._hmac(salted, b"Server Key")
        self.server_signature = self._hmac(server_key, auth_message)
        return f"{without_proof},p={b64(proof)}"

    def server_final_valid(self, server_final):
        """Check the server-final-message "v=" against the expected
        ServerSignature, which proves the server knew the keys."""
        return server_final == "v=" + b64(self.server_signature)

    def _hmac(self, key, data):
        return hmac.new(key, data, self.hash).digest()


def cram_md5_response(user, password, challenge):
    """Return the CRAM-MD5 response to `challenge` (bytes): the user name,
    a space and the hex HMAC-MD5 of the challenge keyed by the password
    (RFC 2195, section 2)."""
    digest = hmac.new(password.encode("utf-8"), challenge, "md5").hexdigest()
    return f"{user} {digest}"


def ntlm_response_octets(trace):
    """Find the base64 AUTHENTICATE_MESSAGE in a client's trace and return
    the length of its NtChallengeResponse: 24 for NTLMv1, more for
    NTLMv2."""
    match = re.search(AUTHENTICATE_PREFIX + r"[A-Za-z0-9+/=]*", trace)
    if match is None:
        raise AssertionError(f"no NTLM AUTHENTICATE_MESSAGE in {trace!r}")
    message = base64.b64decode(match[0])
    # NtChallengeResponseFields: Len, MaxLen and Offset at octet 20.
    length, _, _ = struct.unpack_from("<HHI", message, 20)
    return length


def certificate_signature_algorithm(der_certificate):
    """Return the signature algorithm of a DER certificate as openssl
    names it, e.g. "sha256WithRSAEncryption"."""
    result = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-noout", "-text"],
        input=der_certificate, capture_output=True, timeout=CLIENT_TIMEOUT,
        check=True)
    match = re.search(rb"Signature Algorithm: (\S+)", result.stdout)
    return match[1].decode("ascii")


def tls_server_end_point(der_certificate):
    """Return the tls-server-end-point channel binding data (RFC 5929,
    section 4.1): the certificate hashed with the hash of its signature
    algorithm. Only SHA-256 signatures are handled, as the test server's
    generated certificates have."""
    algorithm = certificate_signature_algorithm(der_certificate)
    if algorithm not in ("sha256WithRSAEncryption", "ecdsa-with-SHA256"):
        raise AssertionError(f"unexpected certificate signature algorithm "
                             f"{algorithm}")
    return hashlib.sha256(der_certificate).digest()


class OpensslSession:
    """`openssl s_client` on an implicit TLS listener, driven line by line.

    It prints the tls-exporter channel binding data (RFC 9266: 32 octets
    exported with the label "EXPORTER-Channel-Binding" and no context)
    before the first server line, and self.exporter contains it. Lines
    from the server end in CRLF while s_client's own reports end in LF
    only, so read_line() skips the latter, such as the session tickets
    that TLS 1.3 servers send.

    NOTE: RFC 9266 requires an empty context. TLS 1.3 exports the same
    bytes for no context and an empty one, but TLS 1.2 does not, so this
    value matches RFC 9266 only on TLS 1.3 connections.
    """

    def __init__(self, port, timeout=harness.SOCKET_TIMEOUT):
        self.timeout = timeout
        self.buffer = b""
        self.process = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
             "-servername", harness.IDENTITY, "-crlf", "-ign_eof",
             "-nocommands", "-keymatexport", "EXPORTER-Channel-Binding",
             "-keymatexportlen", "32"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)
        self.exporter = self._read_exporter()

    def close(self):
        """Stop s_client and wait for it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=self.timeout)
        self.process.stdin.close()
        self.process.stdout.close()

    def _read_raw_line(self):
        deadline = time.monotonic() + self.timeout
        output = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([output], [], [], max(remaining, 0))
            if not ready:
                raise AssertionError(
                    f"s_client sent no line within {self.timeout} s; "
                    f"unread bytes {self.buffer!r}")
            chunk = os.read(output, 65536)
            if not chunk:
                raise harness.ConnectionClosed(
                    f"s_client closed; unread bytes {self.buffer!r}")
            self.buffer += chunk
        end = self.buffer.index(b"\n") + 1
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def _read_exporter(self):
        while True:
            line = self._read_raw_line()
            match = re.match(rb"\s*Keying material: ([0-9A-F]{64})\n$", line)
            if match:
                return bytes.fromhex(match[1].decode("ascii"))

    def read_line(self):
        """Return the next line the server sent, with its CRLF."""
        while True:
            line = self._read_raw_line()
            if line.endswith(b"\r\n"):
                return line

    def read_reply(self):
        """Return one SMTP reply, every line of a multiline one included."""
        reply = b""
        while True:
            line = self.read_line()
            reply += line
            if line[3:4] != b"-":
                return reply

    def send_line(self, text):
        """Send one line, whose LF s_client turns into CRLF."""
        self.process.stdin.write(text.encode("ascii") + b"\n")
        self.process.stdin.flush()


def run_client(args, home, input=None):
    """Run a client under `timeout` with HOME set to `home`, and return its
    exit status and its standard output and error as one text."""
    environment = dict(os.environ, HOME=home)
    result = subprocess.run(["timeout", str(CLIENT_TIMEOUT), *args],
                            input=input, capture_output=True,
                            env=environment, check=False,
                            timeout=CLIENT_TIMEOUT + 10)
    return (result.returncode,
            result.stdout.decode("utf-8", "replace")
            + result.stderr.decode("utf-8", "replace"))


def write_private(home, name, text):
    """Write a client configuration that only its owner may read, as
    msmtp and mpop require of a file that contains a password."""
    path = os.path.join(home, name)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(path, 0o600)
    return path
