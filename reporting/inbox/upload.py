"""Checking an upload before anything is stored: size, content type, JSON, schema, hash, school.

    parts = await read_parts(request, max_bytes)          # raises UploadError (413, 415, 400)
    incoming = check(parts, school, key, "https", "token")  # raises UploadError (400..422)

Every refusal is an `UploadError` with an HTTP status and a message in Albanian and English,
which the API sends as `{"error": "..."}` and the manual form shows; nothing is stored before
`check` passed. The parts are `report` (the report's JSON, required: roja.report/2 or the
earlier roja.report/1, each checked against its own schema), `pdf` and `csv` (both optional: a
school's appliance sends the PDF, and an office uploading a report that came by e-mail may give
the JSON alone or all three attachments). The JSON alone identifies the report: its content
hash, and the idempotency key derived from it, are those of the school's own delivery, so the
same report is the same revision however it arrived. A school may submit only its own report:
the report's `header.school_code` must equal the school the token (or the form) names. A
missing Idempotency-Key is derived as the outbox does (school, period, content hash).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from aiohttp import BodyPartReader, web

from reporting.inbox.json_limits import JsonLimitError, loads
from reporting.inbox.registry import School
from reporting.inbox.schema_check import first_problem
from reporting.inbox.submissions import Incoming
from reporting.outbox import idempotency_key
from reporting.report_json import ACCEPTED, SCHEMAS, content_hash, json_schema

PARTS = ("report", "pdf", "csv")
KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


class UploadError(Exception):
    """A refused upload: HTTP status and a bilingual message."""

    def __init__(self, status: int, albanian: str, english: str) -> None:
        self.status = status
        self.message = f"{albanian} / {english}"
        super().__init__(self.message)


@dataclass(frozen=True)
class Part:
    filename: str
    data: bytes


@cache
def _schema(schema_id: str) -> dict[str, Any]:
    return json_schema(schema_id)


async def read_parts(request: web.Request, max_bytes: int) -> dict[str, Part]:
    """The known parts of a multipart/form-data body, at most `max_bytes` in all."""
    if request.content_type != "multipart/form-data":
        raise UploadError(415, "dërgoni multipart/form-data me pjesën 'report' (dhe 'pdf')",
                          f"send multipart/form-data with the part 'report' (and 'pdf'), "
                          f"not {request.content_type or 'nothing'}")
    too_big = UploadError(413, f"ngarkimi është më i madh se {max_bytes // (1 << 20)} MB",
                          f"the upload is larger than {max_bytes // (1 << 20)} MB")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_big
    parts: dict[str, Part] = {}
    total = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise UploadError(400, "pjesë e panjohur", "nested multipart is not accepted")
            chunks = []
            while chunk := await part.read_chunk(65536):
                total += len(chunk)
                if total > max_bytes:
                    raise too_big
                chunks.append(chunk)
            if part.name in PARTS and part.name not in parts:
                parts[part.name] = Part(part.filename or part.name, b"".join(chunks))
    except (ValueError, AssertionError, RuntimeError) as exc:
        raise UploadError(400, "trupi multipart nuk lexohet",
                          f"the multipart body cannot be read ({exc})") from exc
    return parts


def parse_report(raw: bytes) -> tuple[dict[str, Any], str]:
    """The verified document and its content hash; UploadError when it is not a report."""
    try:
        document = loads(raw)
    except JsonLimitError as exc:
        sq, en = str(exc).split(" / ", 1)
        raise UploadError(400, sq, en) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise UploadError(400, "skedari i raportit nuk është JSON i vlefshëm",
                          f"the report file is not valid JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("schema") not in SCHEMAS:
        raise UploadError(422, f"ky nuk është një raport i Rojës ({ACCEPTED})",
                          f"this is not a Roja report ({ACCEPTED})")
    problem = first_problem(document, _schema(str(document["schema"])))
    if problem is not None:
        raise UploadError(422, f"raporti nuk përputhet me skemën: {problem}",
                          f"the report does not match the schema: {problem}")
    digest = content_hash(document)
    if document["content_sha256"] != digest:
        raise UploadError(422, "content_sha256 nuk përputhet me përmbajtjen (skedar i ndryshuar?)",
                          "content_sha256 does not match the content (was the file edited?)")
    return document, digest


def check(parts: dict[str, Part], school: School, key: str | None, channel: str,
          uploaded_by: str) -> Incoming:
    """The upload as an `Incoming` submission, or UploadError."""
    if "report" not in parts:
        raise UploadError(400, "mungon pjesa 'report' (skedari JSON i raportit)",
                          "the 'report' part (the report's JSON file) is missing")
    if "pdf" in parts and not parts["pdf"].data:
        del parts["pdf"]  # an empty file field: as if none was given
    if "pdf" in parts and not parts["pdf"].data.startswith(b"%PDF-"):
        raise UploadError(422, "skedari 'pdf' nuk është PDF", "the 'pdf' file is not a PDF")
    if "csv" in parts:
        try:
            parts["csv"].data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UploadError(422, "skedari CSV nuk është UTF-8",
                              "the CSV file is not UTF-8") from exc
    raw = parts["report"].data
    document, digest = parse_report(raw)
    header = document["report"]["header"]
    if header["school_code"] != school.code:
        raise UploadError(403, f"raporti është i shkollës {header['school_code']!r}, jo i "
                               f"{school.code!r}; çdo shkollë dërgon vetëm raportin e vet",
                          f"the report belongs to school {header['school_code']!r}, not "
                          f"{school.code!r}; a school may submit only its own report")
    period = str(header["period"])
    if key is None or key == "":
        key = idempotency_key(school.code, period, digest)
    elif not KEY.match(key):
        raise UploadError(400, "Idempotency-Key nuk vlen (1–200 shenja ASCII pa hapësira)",
                          "invalid Idempotency-Key (1–200 visible ASCII characters)")
    files = {kind: (parts[name].filename[:200], parts[name].data)
             for kind, name in (("json", "report"), ("pdf", "pdf"), ("csv", "csv"))
             if name in parts}
    return Incoming(school.code, period, document, digest, hashlib.sha256(raw).hexdigest(),
                    key, channel, uploaded_by, files)
