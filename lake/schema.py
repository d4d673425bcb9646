"""The lake's tables: columns, types, descriptions, schema versions and the migrations between them.

Every table is partitioned by `job` (the session key) and `sample`; those two come from the
object path (`<table>/job=<key>/sample=<id>/part-0.parquet`, Hive layout) and are not stored in
the files, so Athena, Spark and the embedded engine all see them the same way. Each file carries
its schema version twice: in a `schema_version` column and in the Parquet key-value metadata
(`gems.lake.schema_version`), so a reader knows which migration a partition needs before it
reads a row.

pyarrow is imported lazily: the web app imports this module for the Glue/Athena DDL only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gems.errors import InputError

PARTITION_KEYS = ("job", "sample")
VERSION_KEY = b"gems.lake.schema_version"
TABLE_KEY = b"gems.lake.table"

# (name, arrow type name, description). Type names map to pyarrow and to Glue/Hive below.
Column = tuple[str, str, str]

_ARROW = {
    "string": "string",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "float64": "float64",
    "bool": "bool_",
}
_HIVE = {
    "string": "string",
    "int8": "tinyint",
    "int16": "smallint",
    "int32": "int",
    "int64": "bigint",
    "float64": "double",
    "bool": "boolean",
}


@dataclass(frozen=True)
class TableSpec:
    name: str
    version: int
    columns: tuple[Column, ...]
    description: str
    # version v -> function turning a table written at v into one at v + 1
    migrations: dict[int, Callable] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [c[0] for c in self.columns]

    def arrow_schema(self):
        import pyarrow as pa

        # Column descriptions live here, in Glue and in docs/lake.md, not in every file's footer:
        # embedded, they made a one-row qc partition 10 kB.
        fields = [pa.field(n, getattr(pa, _ARROW[t])()) for n, t, _ in self.columns]
        meta = {VERSION_KEY: str(self.version).encode(), TABLE_KEY: self.name.encode()}
        return pa.schema(fields, metadata=meta)

    def hive_columns(self) -> list[dict]:
        return [{"Name": n, "Type": _HIVE[t], "Comment": d[:255]} for n, t, d in self.columns]


def _alt_count_from_genotype(table):
    """v1 -> v2: v1 had no alt_count. Derive it from the genotype string: the number of non-reference
    allele indices, or 1 for a heterozygous genotype over two different alts (1/2 carries each once).
    Exact for biallelic records; for a multi-allelic record it counts the sample's alts even on the
    row of an alt it does not carry (v1 did not store which alt a row is)."""
    import pyarrow as pa

    counts = []
    for gt in table.column("genotype").to_pylist():
        idx = [a for a in (gt or "").replace("|", "/").split("/") if a not in ("", ".", "0")]
        counts.append(0 if not idx else (len(idx) if len(set(idx)) == 1 else 1))
    at = table.schema.get_field_index("genotype") + 1
    return table.add_column(at, "alt_count", pa.array(counts, type=pa.int8()))


VARIANTS = TableSpec(
    name="variants",
    version=2,
    description="One row per sample x called variant allele (multi-allelic records give one row per alt).",
    columns=(
        ("chrom", "string", "contig as in the sample's reference"),
        ("pos", "int64", "1-based position (VCF POS)"),
        ("ref", "string", "reference allele"),
        ("alt", "string", "this row's alternate allele"),
        ("type", "string", "snv, mnv, insertion, deletion or complex"),
        ("filter", "string", "VCF FILTER: PASS or the failed filters joined by ';'"),
        ("qual", "float64", "VCF QUAL"),
        ("genotype", "string", "the sample's GT, e.g. 0/1, 1/1, 1/2"),
        ("alt_count", "int8", "copies of this row's alt in the genotype (0, 1 or 2)"),
        ("gq", "int32", "genotype quality (FORMAT/GQ)"),
        ("dp", "int32", "read depth (FORMAT/DP, else INFO/DP)"),
        ("gene", "string", "gene symbol of the most severe effect (empty when not annotated)"),
        ("gene_id", "string", "gene identifier of the most severe effect"),
        ("transcript", "string", "transcript of the most severe effect"),
        ("consequence", "string", "most severe consequence (SO terms joined by '&')"),
        ("protein_change", "string", "HGVS p. change of the most severe effect"),
        ("cdna_change", "string", "HGVS c./n. change of the most severe effect"),
        ("schema_version", "int16", "version of this table's schema the row was written with"),
    ),
    migrations={1: _alt_count_from_genotype},
)


def _hla_flag_and_posterior(table):
    """v1 -> v2: v1's `confidence` was the log-likelihood margin over the runner-up genotype; v2's is
    the posterior of the called genotype, which a margin alone cannot give. The margin moves to
    `margin`, `confidence` and `flag` are null (unknown: typed before flags existed)."""
    import pyarrow as pa

    n = table.num_rows
    at = table.schema.get_field_index("confidence")
    margin = table.column("confidence")
    table = table.set_column(at, "confidence", pa.nulls(n, type=pa.float64()))
    table = table.add_column(at + 1, "flag", pa.nulls(n, type=pa.string()))
    return table.add_column(at + 2, "margin", margin)


def _hla_groups(table):
    """v2 -> v3: G groups, the GL String and DRB3/4/5 copies did not exist before v3 (null)."""
    import pyarrow as pa

    n = table.num_rows
    at = table.schema.get_field_index("note") + 1
    for offset, (name, kind) in enumerate(
        (
            ("g_group1", pa.string()),
            ("g_group2", pa.string()),
            ("gl_string", pa.string()),
            ("copies", pa.int16()),
        )
    ):
        table = table.add_column(at + offset, name, pa.nulls(n, type=kind))
    return table


HLA = TableSpec(
    name="hla",
    version=3,
    description="One row per sample x HLA gene typed (a no-call has empty alleles and a note).",
    columns=(
        ("gene", "string", "HLA gene, e.g. A, B, C, DRB1"),
        ("allele1", "string", "first allele, 2-field (e.g. A*02:01); null for a no-call"),
        ("allele2", "string", "second allele, 2-field; equal to allele1 when homozygous"),
        ("confidence", "float64", "posterior probability of the called 2-field genotype (null before v2)"),
        (
            "flag",
            "string",
            "ok, low_confidence, ambiguous, insufficient or absent (DRB3/4/5; null before v2)",
        ),
        ("margin", "float64", "log-likelihood margin (nats) over the runner-up 2-field genotype"),
        ("reads1", "int32", "read pairs supporting allele1 at least as well as allele2"),
        ("reads2", "int32", "read pairs supporting allele2 at least as well as allele1"),
        ("pairs", "int32", "informative read pairs for the gene"),
        ("note", "string", "why a call is missing or weak"),
        ("g_group1", "string", "allele1's G group (e.g. A*02:01:01G; null before v3)"),
        ("g_group2", "string", "allele2's G group"),
        ("gl_string", "string", "the gene's whole ambiguity as a GL String at G-group level"),
        ("copies", "int16", "DRB3/4/5: haplotypes carrying the gene (0 when absent); null otherwise"),
        ("imgt_release", "string", "IMGT/HLA release of the reference alleles"),
        ("schema_version", "int16", "version of this table's schema the row was written with"),
    ),
    migrations={1: _hla_flag_and_posterior, 2: _hla_groups},
)

QC = TableSpec(
    name="qc",
    version=1,
    description="One row per sample: the report's QC, alignment, coverage and call-count metrics.",
    columns=(
        ("status", "string", "the sample's pipeline status (COMPLETE)"),
        ("generated_at", "string", "when the sample's report was written (UTC, ISO 8601)"),
        ("read_pairs", "int64", "read pairs in the input"),
        ("mean_quality", "float64", "mean base quality"),
        ("q30_fraction", "float64", "fraction of bases at Q30 or better"),
        ("mapping_rate", "float64", "mapped reads / reads"),
        ("properly_paired_rate", "float64", "properly paired reads / reads"),
        ("duplicate_rate", "float64", "duplicate reads / mapped reads"),
        ("insert_size_median", "float64", "median insert size"),
        ("mean_coverage", "float64", "mean depth over the targets (or the whole reference)"),
        ("median_coverage", "float64", "median depth"),
        ("fraction_20x", "float64", "fraction of target bases at 20x or more"),
        ("coverage_over", "string", "what the coverage figures are over"),
        ("variants", "int64", "called variant alleles"),
        ("variants_filtered", "int64", "calls that failed a filter"),
        ("snvs", "int64", "SNV/SNP calls"),
        ("indels", "int64", "indel calls"),
        ("het_hom_ratio", "float64", "heterozygous / homozygous-alt calls"),
        ("ts_tv", "float64", "transition / transversion ratio"),
        ("hla_genes_called", "int32", "HLA genes with a call (null when HLA typing did not run)"),
        ("reference_sha256", "string", "checksum of the reference FASTA the reads were aligned to"),
        ("gems_version", "string", "gems version that ran the pipeline"),
        ("schema_version", "int16", "version of this table's schema the row was written with"),
    ),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (VARIANTS, HLA, QC)}


def spec(table: str) -> TableSpec:
    try:
        return TABLES[table]
    except KeyError:
        raise InputError(f"unknown lake table {table!r} (tables: {', '.join(TABLES)})") from None


def conform(table: str, data):
    """Cast a pyarrow table built by the writer to the table's current schema (columns in order,
    types exact, schema_version filled); a missing or extra column is a bug in the writer."""
    import pyarrow as pa

    s = spec(table)
    data = data.drop_columns([c for c in ("schema_version",) if c in data.column_names])
    data = data.append_column("schema_version", pa.array([s.version] * data.num_rows, type=pa.int16()))
    missing = set(s.names) - set(data.column_names)
    extra = set(data.column_names) - set(s.names)
    if missing or extra:
        raise ValueError(f"{table}: columns do not match the schema (missing {missing}, extra {extra})")
    return data.select(s.names).cast(s.arrow_schema())


def file_version(schema) -> int | None:
    """The schema version a Parquet file says it was written with (its key-value metadata)."""
    raw = (schema.metadata or {}).get(VERSION_KEY)
    return int(raw) if raw is not None else None


def upgrade(table: str, data, version: int, where: str):
    """Bring a partition written at `version` to the current schema through the migrations, or
    refuse with a reason when no path exists (a newer writer, or a gap in the chain)."""
    s = spec(table)
    written = version
    if version > s.version:
        raise InputError(
            f"{where}: written with {table} schema v{version}, newer than this gems reads (v{s.version}); "
            "upgrade gems"
        )
    while version < s.version:
        step = s.migrations.get(version)
        if step is None:
            raise InputError(
                f"{where}: {table} schema v{version} has no migration to v{version + 1}; "
                "rewrite the partition (rerun the sample)"
            )
        data = step(data)
        version += 1
    import pyarrow as pa

    data = data.drop_columns([c for c in ("schema_version",) if c in data.column_names])
    # the column keeps the version the rows were written with, so a migrated partition stays visible
    data = data.append_column("schema_version", pa.array([written] * data.num_rows, type=pa.int16()))
    return data.select(s.names).cast(s.arrow_schema())
