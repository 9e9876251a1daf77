#!/usr/bin/env python3
"""Builds a DPI message the way a sender outside Postkasse does, with tools
that share no code with it: Python's `cryptography` for keys and
certificates, PyJWT for the Maskinporten token and the JWS business message,
`sign_asice.py` (signxml) for the package's XAdES signature, and
`openssl cms` for the encryption to the provider's certificate.

    dpi_message.py --keys DIR --out DIR --provider-org 999900003 \
        --provider-certificate provider.pem --sender-org 974760673 \
        --address 'kari.nordmann#ABCD2345' [--variant NAME]

The keys directory is made on first use and reused: a test CA (`ca.pem`),
a second CA nobody trusts, the sender's enterprise certificates, and the
Maskinporten issuer's key with its JWKS (`jwks.json`). The out directory gets
`forretningsmelding.jwt`, `dokumentpakke.cms` and `message_id`.

Variants, each spoiling one thing: good, tampered-document, added-file,
expired-token, foreign-token, unknown-ca, other-org.
"""

import argparse
import base64
import datetime
import hashlib
import json
import pathlib
import subprocess
import sys
import uuid
import zipfile

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ISSUER = "https://maskinporten.test/"
ISSUER_KID = "maskinporten-test-key"
STANDARD = ("urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost"
            "##urn:fdc:digdir.no:2020:innbyggerpost:schema:digital::1.0")
PROCESS = "urn:fdc:digdir.no:2020:profile:egovernment:innbyggerpost:digital:ver1.0"
ACTOR = "iso6523-actorid-upis"
OTHER_ORG = "991825827"
NOW = datetime.datetime.now(datetime.timezone.utc)


def key(path: pathlib.Path) -> rsa.RSAPrivateKey:
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), None)
    made = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(made.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return made


def certificate(path, subject, public_key, issuer_name, issuer_key, is_ca):
    if path.exists():
        return x509.load_pem_x509_certificate(path.read_bytes())
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer_name)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=1))
               .not_valid_after(NOW + datetime.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer_key.public_key()), critical=False))
    if is_ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = (builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=True,
            data_encipherment=False, key_agreement=False, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False))
    made = builder.sign(issuer_key, hashes.SHA256())
    path.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    return made


def name(common, org=None):
    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, common)]
    if org:
        parts.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, org))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common))
    return x509.Name(parts)


def authority(keys, label):
    ca_key = key(keys / f"{label}-key.pem")
    ca_name = name(f"Postkasse test CA {label}")
    ca = certificate(keys / f"{label}.pem", ca_name, ca_key.public_key(), ca_name, ca_key, True)
    return ca_key, ca


def enterprise(keys, label, org, ca_key, ca):
    own_key = key(keys / f"{label}-key.pem")
    cert = certificate(keys / f"{label}.pem", name(f"Avsender {org}", org),
                       own_key.public_key(), ca.subject, ca_key, False)
    return own_key, cert


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def der(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def jwks(public_key) -> dict:
    numbers = public_key.public_numbers()

    def url(number):
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": ISSUER_KID,
                      "n": url(numbers.n), "e": url(numbers.e)}]}


def manifest(sender_org: str, address: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://begrep.difi.no/sdp/schema_v10">
  <mottaker><person><postkasseadresse>{address}</postkasseadresse></person></mottaker>
  <avsender><organisasjon authority="{ACTOR}">0192:{sender_org}</organisasjon></avsender>
  <hoveddokument href="brev.txt" mime="text/plain"><tittel lang="NO">Vedtak om skatt</tittel></hoveddokument>
</manifest>
""".encode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--provider-org", required=True)
    parser.add_argument("--provider-certificate", type=pathlib.Path, required=True)
    parser.add_argument("--sender-org", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--variant", default="good")
    args = parser.parse_args()
    args.keys.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    variant = args.variant

    ca_key, ca = authority(args.keys, "ca")
    rogue_key, rogue = authority(args.keys, "rogue-ca")
    sender_key, sender_cert = enterprise(args.keys, "sender", args.sender_org, ca_key, ca)
    if variant == "unknown-ca":
        sender_key, sender_cert = enterprise(args.keys, "sender-rogue", args.sender_org,
                                             rogue_key, rogue)
        chain_ca = rogue
    elif variant == "other-org":
        sender_key, sender_cert = enterprise(args.keys, "other-org", OTHER_ORG, ca_key, ca)
        chain_ca = ca
    else:
        chain_ca = ca
    issuer_key = key(args.keys / "maskinporten-key.pem")
    (args.keys / "jwks.json").write_text(json.dumps(jwks(issuer_key.public_key())))

    # The package, signed by the sender's enterprise certificate.
    work = args.out / "package"
    work.mkdir(exist_ok=True)
    letter = "Vedtak om skatt for 2026.\nDu skal betale 0 kroner.\n".encode()
    files = {"manifest.xml": manifest(args.sender_org, args.address), "brev.txt": letter}
    for file_name, content in files.items():
        (work / file_name).write_bytes(content)
    (args.out / "sender-key.pem").write_bytes(sender_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    chain_pem = (sender_cert.public_bytes(serialization.Encoding.PEM)
                 + chain_ca.public_bytes(serialization.Encoding.PEM))
    (args.out / "sender-chain.pem").write_bytes(chain_pem)
    signatures = args.out / "signatures.xml"
    subprocess.run([sys.executable, str(pathlib.Path(__file__).with_name("sign_asice.py")),
                    "--key", str(args.out / "sender-key.pem"),
                    "--chain", str(args.out / "sender-chain.pem"),
                    "--out", str(signatures), str(work)], check=True)
    if variant == "tampered-document":
        files["brev.txt"] = letter.replace(b"0 kroner", b"9 kroner")
    if variant == "added-file":
        files["ekstra.txt"] = b"Ikke signert.\n"
    asice = args.out / "dokumentpakke.asice"
    with zipfile.ZipFile(asice, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.etsi.asic-e+zip",
                         compress_type=zipfile.ZIP_STORED)
        for file_name, content in files.items():
            archive.writestr(file_name, content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/signatures.xml", signatures.read_bytes())

    # Encrypted to the provider's certificate, as DPI asks: CMS EnvelopedData,
    # RSAES-OAEP (SHA-256) and AES-256-CBC.
    cms = args.out / "dokumentpakke.cms"
    subprocess.run(["openssl", "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER",
                    "-in", str(asice), "-out", str(cms),
                    "-recip", str(args.provider_certificate),
                    "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256",
                    "-keyopt", "rsa_mgf1_md:sha256"], check=True)
    fingerprint = b64(hashlib.sha256(cms.read_bytes()).digest())

    # The sender's Maskinporten access token.
    token_key = issuer_key
    if variant == "foreign-token":
        token_key = key(args.keys / "foreign-issuer-key.pem")
    issued = int(NOW.timestamp()) - (7200 if variant == "expired-token" else 0)
    token = jwt.encode({
        "iss": ISSUER, "client_amr": "virksomhetssertifikat", "token_type": "Bearer",
        "client_id": "test-sender", "scope": "digitalpostinnbygger:send",
        "consumer": {"authority": ACTOR, "ID": f"0192:{args.sender_org}"},
        "iat": issued, "exp": issued + 120, "jti": str(uuid.uuid4()),
    }, token_key, algorithm="RS256", headers={"kid": ISSUER_KID})

    message_id = str(uuid.uuid4())
    document = {"standardBusinessDocument": {
        "standardBusinessDocumentHeader": {
            "headerVersion": "1.0",
            "sender": [{"identifier": {"authority": ACTOR, "value": f"0192:{args.sender_org}"}}],
            "receiver": [{"identifier": {"authority": ACTOR,
                                         "value": f"0192:{args.provider_org}"}}],
            "documentIdentification": {
                "standard": STANDARD, "typeVersion": "1.0", "instanceIdentifier": message_id,
                "type": "digital", "creationDateAndTime": NOW.isoformat()},
            "businessScope": {"scope": [{
                "type": "ConversationId", "instanceIdentifier": str(uuid.uuid4()),
                "identifier": PROCESS,
                "scopeInformation": [{"expectedResponseDateTime":
                                      (NOW + datetime.timedelta(days=1)).isoformat()}]}]}},
        "digital": {
            "avsender": {"virksomhetsidentifikator": {"authority": ACTOR,
                                                      "value": f"0192:{args.sender_org}"}},
            "mottaker": {"postkasseadresse": args.address},
            "dokumentpakkefingeravtrykk": {
                "digestMethod": "http://www.w3.org/2001/04/xmlenc#sha256",
                "digestValue": fingerprint},
            "maskinportentoken": token,
            "sikkerhetsnivaa": 3,
            "ikkesensitivtittel": "Brev fra Skatteetaten",
            "spraak": "NB",
        }}}
    business_message = jwt.encode(document, sender_key, algorithm="RS256",
                                  headers={"x5c": [b64(der(sender_cert)), b64(der(chain_ca))]})
    (args.out / "forretningsmelding.jwt").write_text(business_message)
    (args.out / "message_id").write_text(message_id)


if __name__ == "__main__":
    sys.exit(main())
