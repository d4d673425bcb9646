"""A job's HLA typing as one HML 1.0.1 document (NMDP's Histoimmunogenetics Markup Language,
the format registries and labs exchange typings in), built from each sample's MIRING record
(`hla.miring.json`, written by `workers.hla.miring`). `GET /job/<key>/hla.xml` serves it and
`gems results` saves it; it is tested against NMDP's schema, shipped in `tests/data/hml/`.

One <sample> per sample with a record; one <typing> per locus typed, holding:
  allele-assignment  the locus's GL String and a haploid per called allele, in the release
                     the sample was typed with (absent for a locus the reads could not call)
  typing-method      sbt-ngs (sequencing-based typing from NGS reads), the read files named
  consensus-sequence per called allele, its IMGT reference sequence and one block per exon
                     the reads cover, with a variant wherever the reads differ from the allele
The flag and note gems gives each locus travel as properties: HML has no place for them, and a
lab must not read a flagged call as a clean one.

Records are the lab's files, read back from its bucket: every value is checked against what
the schema allows before it is written, and ElementTree escapes the text.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET

from gems.aws import s3 as S3
from gems.errors import ConflictError
from gems.jobs.run_table import latest_attempts
from gems.statekeys import results_prefix
from gems.states import SampleStatus

NAMESPACE = "http://schemas.nmdp.org/spec/hml/1.0.1"
VERSION = "1.0.1"
MIRING_FORMAT = "gems-miring/1"
RECORD = "hla.miring.json"
_TYPE = re.compile(r"^[0-9A-Z:\-*]{2,40}$")  # a haploid's type (the allele's fields)
_BASES = re.compile(r"^[ACGTN]+$")
_SIMPLE = re.compile(r"^[ACGT]+$")
NOTHING_YET = "no sample of this job has a finished HLA typing yet"
_ID = re.compile(r"[^A-Za-z0-9._-]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def hmlid_root(session_key: str) -> str:
    """An OID for the document: a job's session key is a UUID, and 2.25 is the OID arc of UUIDs
    (ITU-T X.667), so the document is named without an OID registered to the lab."""
    return f"2.25.{uuid.UUID(hex=session_key).int}"


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    node = ET.SubElement(
        parent, f"{{{NAMESPACE}}}{tag}", {k.replace("_", "-"): str(v) for k, v in attrs.items()}
    )
    if text is not None:
        node.text = text
    return node


def _prop(parent: ET.Element, name: str, value) -> None:
    if value not in (None, ""):
        _el(parent, "property", name=name, value=value)


def _haploid(parent: ET.Element, locus: str, allele: dict) -> None:
    name = str(allele.get("name") or "")
    fields = name.split("*", 1)[1] if "*" in name else ""
    if _TYPE.match(fields):
        _el(parent, "haploid", locus=locus, method="DNA", type=fields)


def _consensus(
    typing: ET.Element, locus: str, allele: dict, ref_id: str, date: str, release: str, copies: int
):
    blocks = [b for b in allele.get("blocks") or [] if _BASES.match(str(b.get("sequence") or ""))]
    if not blocks:
        return
    cs = _el(typing, "consensus-sequence", date=date)
    db = _el(
        cs, "reference-database", availability="public", curated="true", name="IPD-IMGT/HLA", version=release
    )
    end = max(int(b["end"]) for b in blocks)
    name = f"HLA-{allele['name']}"
    if allele.get("accession"):
        _el(db, "reference-sequence", id=ref_id, name=name, start=0, end=end, accession=allele["accession"])
    else:
        _el(db, "reference-sequence", id=ref_id, name=name, start=0, end=end)
    variants = allele.get("variants") or []
    for b in blocks:
        where = f"{locus} exon {b['exon']}" if b.get("exon") is not None else f"{locus} coding sequence"
        block = _el(
            cs, "consensus-sequence-block", reference_sequence_id=ref_id, start=int(b["start"]), end=int(b["end"]),
            strand="+", phase_set=ref_id, expected_copy_number=copies, continuity="true", description=where,
        )  # fmt: skip
        _el(block, "sequence", str(b["sequence"]))
        for k, v in enumerate(variants):
            inside = int(b["start"]) <= int(v["start"]) < int(b["end"])
            if inside and _SIMPLE.match(str(v["allele_bases"])) and _SIMPLE.match(str(v["read_bases"])):
                _el(
                    block, "variant", id=f"{ref_id}-v{k + 1}",
                    name="novel" if v.get("novel") else "known in another allele",
                    start=int(v["start"]), end=int(v["end"]), reference_bases=v["allele_bases"],
                    alternate_bases=v["read_bases"], quality_score=float(v.get("share", 0)),
                )  # fmt: skip


def _typing(sample_el: ET.Element, sid: str, locus: dict, record: dict, date: str) -> None:
    name = str(locus.get("locus") or "")
    release = str(record["reference"].get("release") or "unknown")
    typing = _el(sample_el, "typing", gene_family="HLA", date=date)
    _prop(typing, "gems:flag", locus.get("flag"))
    _prop(typing, "gems:note", locus.get("note"))
    _prop(typing, "gems:copies", locus.get("copies"))
    alleles = locus.get("alleles") or []
    if alleles:
        aa = _el(typing, "allele-assignment", date=date, allele_db="IPD-IMGT/HLA", allele_version=release)
        for a in alleles:
            _haploid(aa, name, a)
            if locus.get("homozygous"):
                _haploid(aa, name, a)
        if locus.get("gl_string"):
            _el(aa, "glstring", str(locus["gl_string"]))
    method = _el(typing, "typing-method")
    ngs = _el(method, "sbt-ngs", locus=name, test_id="gems", test_id_source="gems")
    _prop(ngs, "gems:read-pairs", locus.get("read_pairs"))
    for f in (record.get("reads") or {}).get("files") or []:
        _prop(ngs, "gems:read-file", f)
    copies = 2 if locus.get("homozygous") else 1
    for k, a in enumerate(alleles):
        ref_id = _ID.sub("-", f"s{sid}-{name}-{k + 1}")
        _consensus(typing, name, a, ref_id, date, release, copies)


def usable(record: object) -> bool:
    """A MIRING record this module can read (a lab's file may be anything)."""
    return (
        isinstance(record, dict)
        and record.get("format") == MIRING_FORMAT
        and isinstance(record.get("reference"), dict)
        and isinstance(record.get("loci"), list)
        and all(isinstance(x, dict) and isinstance(x.get("alleles", []), list) for x in record["loci"])
        and all(isinstance(a, dict) for x in record["loci"] for a in x.get("alleles", []))
    )


def document(session_key: str, records: list[tuple[str, dict]], today: str) -> str:
    """The HML document for a job: `records` are (sample, MIRING record), at least one;
    `today` (YYYY-MM-DD) dates a record that carries no date of its own."""
    ET.register_namespace("", NAMESPACE)
    samples: list[ET.Element] = []
    unreadable: list[str] = []
    for n, (sample, record) in enumerate(records):
        date = str((record.get("message") or {}).get("typed") or "")[:10]
        date = date if _DATE.match(date) else today
        sample_el = ET.Element(f"{{{NAMESPACE}}}sample", {"id": sample})
        _prop(sample_el, "gems:gl-string", record.get("gl_string"))
        _prop(sample_el, "gems:imgt-release", record["reference"].get("release"))
        try:
            for locus in record["loci"]:
                _typing(sample_el, str(n + 1), locus, record, date)
        except (KeyError, TypeError, ValueError, AttributeError):
            unreadable.append(sample)  # an edited record: left out, and said so
            continue
        if sample_el.find(f"{{{NAMESPACE}}}typing") is not None:
            samples.append(sample_el)
    if not samples:
        raise ConflictError(NOTHING_YET, field="session_key")
    # <hml> holds its properties first, then its id, then the samples
    root = ET.Element(f"{{{NAMESPACE}}}hml", {"version": VERSION, "project-name": "gems"})
    _prop(root, "gems:session-key", session_key)
    for name in unreadable:
        _prop(root, "gems:unreadable-record", name)
    _el(root, "hmlid", root=hmlid_root(session_key), extension=f"gems-{session_key}")
    root.extend(samples)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def read_records(s3, detail: dict) -> list[tuple[str, dict]]:
    """(sample, MIRING record) for each finished sample of a job (its newest attempt) that has a
    usable one, in plan order. Records are read fresh: they are large, and few ask for them."""
    out: list[tuple[str, dict]] = []
    for sample, (_, state) in latest_attempts(detail).items():
        if state.get("status") != SampleStatus.COMPLETE.value:
            continue
        key = results_prefix(detail["prefix"], detail["session_key"], sample) + RECORD
        try:
            record = S3.get_json(s3, detail["bucket"], key)
        except ValueError:  # not JSON: the lab's bucket holds what anyone with access put there
            continue
        if record is not None and usable(record):
            out.append((sample, record))
    return out
