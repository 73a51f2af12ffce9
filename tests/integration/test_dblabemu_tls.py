#!/usr/bin/python3
"""The DBLab emulator over HTTPS (--tls-cert/--tls-key) with a private CA made by the
openssl CLI: accepted with the CA, refused without it, accepted with verification off.
"""
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.error

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dblabemu_testlib as lib  # noqa: E402


def make_ca_and_cert(d):
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=dblab emulator test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return os.path.join(d, "ca.pem"), os.path.join(d, "server.pem"), os.path.join(d, "server.key")


class TestTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("openssl"):
            raise unittest.SkipTest("no openssl CLI")
        cls.dir = tempfile.mkdtemp(prefix="dblabemu-tls.")
        cls.ca, cert, key = make_ca_and_cert(cls.dir)
        trusting = ssl.create_default_context(cafile=cls.ca)
        cls.emu = lib.start(tls=(cert, key, trusting))

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        shutil.rmtree(cls.dir)

    def test_url_is_https(self):
        self.assertTrue(self.emu.url.startswith("https://127.0.0.1:"))

    def test_accepted_with_the_ca(self):
        resp = self.emu.api("GET", "/status")
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.emu.api("POST", "/full-refresh").json()["status"], "OK")

    def test_refused_without_the_ca(self):
        with self.assertRaises(urllib.error.URLError) as cm:
            self.emu.api("GET", "/healthz", ssl_context=ssl.create_default_context())
        self.assertIsInstance(cm.exception.reason, ssl.SSLCertVerificationError)
        self.assertEqual(self.emu.api("GET", "/healthz").status, 200, "still serving after a failed handshake")

    def test_accepted_without_verification(self):
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        self.assertEqual(self.emu.api("GET", "/status", ssl_context=insecure).status, 200)

    def test_curl_with_cacert(self):
        if not shutil.which("curl"):
            self.skipTest("no curl")
        url = self.emu.url + "/healthz"
        ok = subprocess.run(["curl", "-sS", "--cacert", self.ca, url], capture_output=True, text=True)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn('"edition"', ok.stdout)
        bad = subprocess.run(["curl", "-sS", "--capath", "/nonexistent", "--cacert", "/dev/null", url],
                             capture_output=True, text=True)
        self.assertNotEqual(bad.returncode, 0)

    def test_plain_http_to_the_tls_port_does_not_break_it(self):
        plain = lib.Emulator(self.emu.proc, self.emu.port, "http", self.emu.workdir)
        with self.assertRaises(OSError):
            plain.request("GET", "/healthz", timeout=3)
        self.assertEqual(self.emu.api("GET", "/healthz").status, 200)


if __name__ == "__main__":
    lib.run_tests()
