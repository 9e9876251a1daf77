#!/usr/bin/env python3
"""A print house, as the tests need one: a separate process that shares
nothing with Postkasse but the drop directory. It reads the batches
Postkasse wrote to `outgoing/`, checks each file against the manifest's
SHA-256, and writes its answers to `responses/` as JSON files.

    print_house.py DROP accept [--per-letter]
    print_house.py DROP post [--per-letter]
    print_house.py DROP return LETTER REASON
    print_house.py DROP fail LETTER REASON

`accept` and `post` answer for every letter of every batch in the drop:
one file per batch, or with --per-letter one file per letter. Each file is
written under a temporary name and renamed, as an SFTP client would. It
prints the letter ids it answered for, one per line, and exits non-zero
when a batch's files do not match its manifest.
"""

import hashlib
import json
import os
import pathlib
import sys


def batches(drop):
    outgoing = drop / "outgoing"
    if not outgoing.is_dir():
        return []
    found = []
    for folder in sorted(outgoing.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        manifest = json.loads((folder / "manifest.json").read_text())
        for letter in manifest["letters"]:
            digest = hashlib.sha256((folder / letter["file"]).read_bytes()).hexdigest()
            if digest != letter["sha256"]:
                sys.exit(f"{folder.name}/{letter['file']}: SHA-256 {digest} is not the manifest's {letter['sha256']}")
        found.append(manifest)
    return found


def write_answer(drop, name, content):
    responses = drop / "responses"
    responses.mkdir(parents=True, exist_ok=True)
    partial = responses / f".{name}.partial"
    partial.write_text(json.dumps(content))
    os.replace(partial, responses / f"{name}.json")


def main():
    drop = pathlib.Path(sys.argv[1])
    action = sys.argv[2]
    status = {"accept": "accepted", "post": "posted", "return": "returned", "fail": "failed"}[action]
    if action in ("accept", "post"):
        per_letter = "--per-letter" in sys.argv[3:]
        for manifest in batches(drop):
            letters = [letter["letter"] for letter in manifest["letters"]]
            if per_letter:
                for letter in letters:
                    write_answer(drop, f"{status}-{letter}", {
                        "batch": manifest["batch"],
                        "answers": [{"letter": letter, "status": status}],
                    })
            else:
                write_answer(drop, f"{status}-{manifest['batch']}", {
                    "batch": manifest["batch"],
                    "answers": [{"letter": letter, "status": status} for letter in letters],
                })
            for letter in letters:
                print(letter)
    else:
        letter, reason = sys.argv[3], sys.argv[4]
        write_answer(drop, f"{status}-{letter}", {
            "answers": [{"letter": letter, "status": status, "reason": reason}],
        })
        print(letter)


if __name__ == "__main__":
    main()
