#!/bin/bash
# dblab-refresh against an HTTPS DBLab emulator whose certificate a private CA
# signed (made here with the openssl CLI): accepted with dblab.caCert, refused
# without it (exit 78: retrying does not fix TLS), refused with the wrong CA,
# accepted with dblab.insecure (and a warning on the run).
. tests/lib/dblab_refresh_test.sh
drt_init
command -v openssl >/dev/null || { echo "openssl CLI not installed"; exit 77; }

pki=$DRT_DIR/pki
mkdir -p "$pki"
make_ca() { # NAME
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1 test CA" \
        -keyout "$pki/$1.key" -out "$pki/$1.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>"$pki/openssl.log" || { cat "$pki/openssl.log"; fail "openssl: CA $1"; }
}
make_ca ca
make_ca other
openssl req -newkey rsa:2048 -nodes -subj "/CN=dblab.test" -keyout "$pki/server.key" \
    -out "$pki/server.csr" 2>"$pki/openssl.log" || { cat "$pki/openssl.log"; fail "openssl: csr"; }
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" \
    "basicConstraints=CA:FALSE" >"$pki/ext.cnf"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -extfile "$pki/ext.cnf" -out "$pki/server.pem" 2>"$pki/openssl.log" ||
    { cat "$pki/openssl.log"; fail "openssl: sign"; }

drt_emu_start --time-scale 600 --tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
case "$DRT_URL" in https://*) ;; *) fail "the emulator is not on https" ;; esac
drt_doc

case_begin "caCert: the private CA is trusted"
drt_config "caCert: $pki/ca.pem"
drt_run
expect_rc 0
expect_doc
expect_no_err "WARN"

case_begin "no caCert: the self-signed chain is refused"
drt_reset
drt_config
drt_run
expect_rc 78
expect_no_out
expect_err "ERROR .*DBLab GET /healthz: .*(certificate|SSL)"
expect_no_err "attempt 1 of"

case_begin "caCert of another CA: refused"
drt_config "caCert: $pki/other.pem"
drt_run
expect_rc 78
expect_no_out
expect_err "ERROR .*DBLab GET /healthz: .*(certificate|SSL)"

case_begin "insecure: accepted, with a warning"
drt_reset
drt_config "insecure: true"
drt_run
expect_rc 0
expect_doc
expect_err "WARN .*dblab.insecure: TLS certificate verification of https://127.0.0.1:[0-9]+ is OFF"

echo "ok"
