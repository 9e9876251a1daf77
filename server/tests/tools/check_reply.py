#!/usr/bin/env python3
"""The agency's side of a reply: checks a delivered `svar` business message
against the reply form the agency sent, with the `jsonschema` package from
PyPI, independently of Postkasse's own code.

Usage: check_reply.py FORM.json MESSAGE.json [OPENAPI.json]
(MESSAGE may be a `svar`, or a free-text `melding` the form allows.)
Prints each fault and exits 1, or exits 0 when the reply fits the form.
With the API's OpenAPI description, the form is also checked against its
Svarskjema schema and the message against its Receipt schema.

The JSON Schema for the answers is derived here from the form: each
question's type gives its value's schema, and the questions the citizen was
asked (following the form's branches) give the required ones.
"""

import base64
import hashlib
import io
import json
import sys
import zipfile

import jsonschema

SHA256_HEX = "^[0-9a-f]{64}$"


def value_schema(question):
    kind = question["type"]
    if kind == "JA_NEI":
        return {"enum": ["ja", "nei"]}
    if kind == "ETT_VALG":
        return {"enum": [choice["verdi"] for choice in question["alternativer"]]}
    if kind == "FLERE_VALG":
        return {
            "type": "array",
            "uniqueItems": True,
            "minItems": 1,
            "items": {"enum": [choice["verdi"] for choice in question["alternativer"]]},
        }
    if kind == "KORT_TEKST":
        return {"type": "string", "minLength": 1, "maxLength": 200}
    if kind == "LANG_TEKST":
        return {"type": "string", "minLength": 1, "maxLength": 4000}
    if kind == "TALL":
        schema = {"type": "integer"}
        if "min" in question:
            schema["minimum"] = question["min"]
        if "maks" in question:
            schema["maximum"] = question["maks"]
        return schema
    if kind == "DATO":
        return {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    if kind == "VEDLEGG":
        return {
            "type": "object",
            "required": ["fil", "filnavn", "mimetype", "sha256", "stoerrelse"],
            "additionalProperties": False,
            "properties": {
                "fil": {"type": "string", "minLength": 1},
                "filnavn": {"type": "string", "minLength": 1},
                "mimetype": {"enum": ["application/pdf", "image/png", "image/jpeg"]},
                "sha256": {"type": "string", "pattern": SHA256_HEX},
                "stoerrelse": {"type": "integer", "minimum": 1},
            },
        }
    raise ValueError(f"unknown question type {kind}")


def asked(form, answers):
    """The ids of the questions on the citizen's path, as the form branches."""
    questions = form["spoersmaal"]
    ids = [question["id"] for question in questions]
    path, index = [], 0
    while index < len(questions):
        question = questions[index]
        path.append(question["id"])
        answer = answers.get(question["id"])
        target = None
        if isinstance(answer, str):
            target = question.get("forgrening", {}).get(answer)
        target = target or question.get("nesteSpoersmaal")
        if target is None:
            index += 1
        elif target == "SLUTT":
            break
        else:
            index = ids.index(target)
    return path


def answers_schema(form, answers):
    path = asked(form, answers)
    questions = {question["id"]: question for question in form["spoersmaal"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {id: value_schema(questions[id]) for id in path},
        "required": [id for id in path if questions[id].get("paakrevd", False)],
    }


MESSAGE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["standardBusinessDocument"],
    "properties": {
        "standardBusinessDocument": {
            "type": "object",
            "required": ["standardBusinessDocumentHeader", "svar"],
            "properties": {
                "svar": {
                    "type": "object",
                    "required": [
                        "avsender", "mottaker", "tidspunkt", "svarId", "innbygger",
                        "sikkerhetsnivaa", "sendt", "skjema", "svar",
                    ],
                    "properties": {
                        "svarId": {"type": "string", "format": "uuid"},
                        "innbygger": {
                            "type": "object",
                            "required": ["personidentifikator"],
                            "properties": {"personidentifikator": {"type": "string", "pattern": r"^\d{11}$"}},
                        },
                        "sikkerhetsnivaa": {"enum": [3, 4]},
                        "sendt": {"type": "string", "format": "date-time"},
                        "skjema": {
                            "type": "object",
                            "required": ["tittel", "versjon"],
                            "properties": {"versjon": {"const": 1}},
                        },
                    },
                }
            },
        }
    },
}


def against_openapi(openapi, component, instance, checker):
    """Faults of `instance` against one of the OpenAPI description's schemas,
    its references resolved within the description."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": f"#/components/schemas/{component}",
        "components": openapi["components"],
    }
    return [
        f"{component}: {error.json_path}: {error.message}"
        for error in jsonschema.Draft202012Validator(schema, format_checker=checker).iter_errors(instance)
    ]


def package_faults(body, answers):
    """The attached files against the ASiC-E container they travel in."""
    files = {id: answer for id, answer in answers.items() if isinstance(answer, dict)}
    if not files:
        return ["vedleggspakke without attachments"] if "vedleggspakke" in body else []
    if "vedleggspakke" not in body:
        return ["attachments without a vedleggspakke"]
    package = body["vedleggspakke"]
    container = base64.b64decode(package["innhold"], validate=True)
    faults = []
    fingerprint = base64.b64encode(hashlib.sha256(container).digest()).decode()
    if package["fingeravtrykk"]["digestValue"] != fingerprint:
        faults.append("vedleggspakke: the fingerprint does not match the container")
    with zipfile.ZipFile(io.BytesIO(container)) as archive:
        first = archive.infolist()[0]
        if first.filename != "mimetype" or first.compress_type != zipfile.ZIP_STORED:
            faults.append("vedleggspakke: mimetype is not the first, stored entry")
        elif archive.read("mimetype") != b"application/vnd.etsi.asic-e+zip":
            faults.append("vedleggspakke: not ASiC-E")
        for id, answer in files.items():
            try:
                content = archive.read(answer["fil"])
            except KeyError:
                faults.append(f"answers.{id}: {answer['fil']} is not in the container")
                continue
            if hashlib.sha256(content).hexdigest() != answer["sha256"]:
                faults.append(f"answers.{id}: sha256 does not match the file")
            if len(content) != answer["stoerrelse"]:
                faults.append(f"answers.{id}: stoerrelse does not match the file")
    return faults


def message_faults(form, message, checker):
    """A citizen's free-text message: allowed by the form, shaped as the
    OpenAPI description says, its attachment in its container."""
    faults = [] if form.get("fritekst") else ["a message, but the form does not allow them"]
    if len(sys.argv) > 3:
        openapi = json.load(open(sys.argv[3], encoding="utf-8"))
        faults += against_openapi(openapi, "Receipt", message, checker)
    body = message["standardBusinessDocument"]["melding"]
    if not body.get("tekst", "").strip():
        faults.append("melding.tekst is empty")
    attached = {"vedlegg": body["vedlegg"]} if "vedlegg" in body else {}
    return faults + package_faults(body, attached)


def main():
    form = json.load(open(sys.argv[1], encoding="utf-8"))
    message = json.load(open(sys.argv[2], encoding="utf-8"))
    checker = jsonschema.FormatChecker()
    if "melding" in message.get("standardBusinessDocument", {}):
        faults = message_faults(form, message, checker)
        for fault in faults:
            print(fault)
        sys.exit(1 if faults else 0)
    faults = [
        f"message: {error.json_path}: {error.message}"
        for error in jsonschema.Draft202012Validator(MESSAGE_SCHEMA, format_checker=checker).iter_errors(message)
    ]
    if len(sys.argv) > 3:
        openapi = json.load(open(sys.argv[3], encoding="utf-8"))
        faults += against_openapi(openapi, "Svarskjema", form, checker)
        faults += against_openapi(openapi, "Receipt", message, checker)
    if not faults:
        body = message["standardBusinessDocument"]["svar"]
        answers = body["svar"]
        faults += [
            f"answers: {error.json_path}: {error.message}"
            for error in jsonschema.Draft202012Validator(
                answers_schema(form, answers), format_checker=checker
            ).iter_errors(answers)
        ]
        if body["skjema"]["tittel"] != form["tittel"]:
            faults.append("skjema.tittel is not the form's title")
        faults += package_faults(body, answers)
    for fault in faults:
        print(fault)
    sys.exit(1 if faults else 0)


if __name__ == "__main__":
    main()
