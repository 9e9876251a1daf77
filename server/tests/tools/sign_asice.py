#!/usr/bin/env python3
"""Signs the files of an ASiC-E document package the way DPI asks a sender to:
writes the package's META-INF/signatures.xml, an asic:XAdESSignatures root
holding one ds:Signature (XAdES Baseline B) with

- one ds:Reference per file, its URI the file's name, no transforms, SHA-256;
- one ds:Reference to xades:SignedProperties (SigningTime, SigningCertificate);
- RSA-SHA256 over the canonicalised ds:SignedInfo;
- the signer's certificate chain in ds:KeyInfo/ds:X509Data.

Postkasse's tests use it as a signer independent of Postkasse's own code:
signxml builds the XAdES parts, libxml2 (through lxml) canonicalises, and
cryptography signs.

    sign_asice.py --key KEY.pem --chain CHAIN.pem [--out signatures.xml]
                  [--c14n 1.0|1.1|exclusive] [--signature-method rsa-sha256|rsa-sha384|rsa-sha512]
                  [--cert-digest sha1|sha256] PATH...

A PATH that is a directory stands for every file under it except META-INF/,
named by its path relative to that directory; a file is named by its base
name. CHAIN.pem holds the signer's certificate first, then intermediates.
Without --out the XML goes to standard output.

xmlsec1 checks the result on its own, run where the files are:

    xmlsec1 --verify --trusted-pem ROOT.pem \
        --id-attr:Id "http://uri.etsi.org/01903/v1.3.2#:SignedProperties" signatures.xml
"""

import argparse
import base64
import hashlib
import mimetypes
import pathlib
import sys
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
from signxml.util import add_pem_header, ds_tag, namespaces, xades_tag
from signxml.xades import XAdESDataObjectFormat, XAdESSigner

ASIC_NAMESPACE = "http://uri.etsi.org/2918/v1.2.1#"

CANONICALISATIONS = {
    "1.0": CanonicalizationMethod.CANONICAL_XML_1_0,
    "1.1": CanonicalizationMethod.CANONICAL_XML_1_1,
    "exclusive": CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
}
SIGNATURE_METHODS = {
    "rsa-sha256": SignatureMethod.RSA_SHA256,
    "rsa-sha384": SignatureMethod.RSA_SHA384,
    "rsa-sha512": SignatureMethod.RSA_SHA512,
}
CERT_DIGESTS = {
    "sha1": (DigestAlgorithm.SHA1, hashlib.sha1),
    "sha256": (DigestAlgorithm.SHA256, hashlib.sha256),
}


class PackageSigner(XAdESSigner):
    """signxml's XAdES signer with detached references to the package's files,
    inside the asic:XAdESSignatures root, as DPI shapes it."""

    def __init__(self, files, cert_digest, **signer_arguments):
        first_type = mimetypes.guess_type(files[0][0])[0] or "application/octet-stream"
        super().__init__(
            data_object_format=XAdESDataObjectFormat(Description=files[0][0], MimeType=first_type),
            **signer_arguments,
        )
        self.files = files
        self.cert_digest = cert_digest

    def _unpack(self, data, references):
        # The signature is made in its final place: inclusive canonicalisation
        # of SignedInfo takes in the namespaces declared on the root.
        root = etree.Element(f"{{{ASIC_NAMESPACE}}}XAdESSignatures", nsmap={"asic": ASIC_NAMESPACE})
        signature = etree.SubElement(root, ds_tag("Signature"), nsmap=self.namespaces)
        return signature, root, [], []

    def _build_sig(self, sig_root, references, c14n_inputs, inclusive_ns_prefixes, exclude_c14n_transform_element=False):
        signed_info, signature_value = super()._build_sig(
            sig_root, [], [], inclusive_ns_prefixes, exclude_c14n_transform_element
        )
        for uri, content in self.files:
            reference = etree.SubElement(signed_info, ds_tag("Reference"), URI=uri)
            etree.SubElement(reference, ds_tag("DigestMethod"), Algorithm=self.digest_alg.value)
            digest = etree.SubElement(reference, ds_tag("DigestValue"))
            digest.text = base64.b64encode(self._get_digest(content, self.digest_alg)).decode()
        return signed_info, signature_value

    def _add_reference_to_signed_info(self, sig_root, node_to_reference, **attributes):
        # DPI signs the files and the SignedProperties; KeyInfo is not referenced.
        if node_to_reference.tag == ds_tag("KeyInfo"):
            return
        super()._add_reference_to_signed_info(sig_root, node_to_reference, **attributes)
        # Name the canonicalisation the digest was made with, as DPI's examples do.
        reference = self._find(sig_root, "SignedInfo")[-1]
        transforms = etree.Element(ds_tag("Transforms"))
        etree.SubElement(transforms, ds_tag("Transform"), Algorithm=self.c14n_alg.value)
        reference.insert(0, transforms)

    def add_signing_certificate(self, signed_signature_properties, sig_root, signing_settings):
        # XAdES 1.3.2's SigningCertificate for the signer's own certificate, as
        # DPI asks, rather than signxml's SigningCertificateV2 over the chain.
        certificate = signing_settings.cert_chain[0]
        if not isinstance(certificate, x509.Certificate):
            certificate = x509.load_pem_x509_certificate(add_pem_header(certificate))
        algorithm, digest = self.cert_digest
        signing_certificate = etree.SubElement(signed_signature_properties, xades_tag("SigningCertificate"))
        cert = etree.SubElement(signing_certificate, xades_tag("Cert"))
        cert_digest = etree.SubElement(cert, xades_tag("CertDigest"))
        etree.SubElement(cert_digest, ds_tag("DigestMethod"), Algorithm=algorithm.value)
        digest_value = etree.SubElement(cert_digest, ds_tag("DigestValue"))
        digest_value.text = base64.b64encode(digest(certificate.public_bytes(Encoding.DER)).digest()).decode()
        issuer_serial = etree.SubElement(cert, xades_tag("IssuerSerial"))
        etree.SubElement(issuer_serial, ds_tag("X509IssuerName")).text = certificate.issuer.rfc4514_string()
        etree.SubElement(issuer_serial, ds_tag("X509SerialNumber")).text = str(certificate.serial_number)


def package_files(paths):
    files = []
    for path in map(pathlib.Path, paths):
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                name = file.relative_to(path).as_posix()
                if not name.startswith("META-INF/"):
                    files.append((name, file.read_bytes()))
        else:
            files.append((path.name, path.read_bytes()))
    return [(urllib.parse.quote(name, safe="/"), content) for name, content in files]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--key", required=True, help="the signer's private key, PEM")
    parser.add_argument("--chain", required=True, help="the signer's certificate, then intermediates, PEM")
    parser.add_argument("--out", help="where to write signatures.xml (default: standard output)")
    parser.add_argument("--c14n", choices=CANONICALISATIONS, default="1.1")
    parser.add_argument("--signature-method", choices=SIGNATURE_METHODS, default="rsa-sha256")
    parser.add_argument("--cert-digest", choices=CERT_DIGESTS, default="sha256")
    parser.add_argument("paths", nargs="+", help="the package's files, or directories holding them")
    arguments = parser.parse_args()

    files = package_files(arguments.paths)
    if not files:
        parser.error("no files to sign")
    signer = PackageSigner(
        files,
        CERT_DIGESTS[arguments.cert_digest],
        method=SignatureConstructionMethod.detached,
        signature_algorithm=SIGNATURE_METHODS[arguments.signature_method],
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CANONICALISATIONS[arguments.c14n],
    )
    signature = signer.sign(
        b"",
        key=pathlib.Path(arguments.key).read_bytes(),
        cert=pathlib.Path(arguments.chain).read_text(),
        always_add_key_value=False,
    )
    document = etree.tostring(signature.getroottree(), xml_declaration=True, encoding="UTF-8")
    if arguments.out:
        pathlib.Path(arguments.out).write_bytes(document)
    else:
        sys.stdout.buffer.write(document)


if __name__ == "__main__":
    main()
