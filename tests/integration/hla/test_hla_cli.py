"""`gems type-hla` and `gems eval-hla` through the real dispatcher: exit codes and one-line errors."""

import json

from gems.cli.main import main


def test_type_then_eval(tmp_path, hla_data, capsys, shared):
    out = tmp_path / "out"
    rc = main(
        [
            "type-hla",
            "--r1",
            str(hla_data / "crc81n_R1.fastq.gz"),
            "--r2",
            str(hla_data / "crc81n_R2.fastq.gz"),
            "--hla-class",
            "1",
            "--out",
            str(out),
            "--threads",
            "2",
        ]
    )
    assert rc == 0
    assert (out / "hla.tsv").read_text().startswith("gene\tallele1\tallele2\tconfidence")
    record = json.loads((out / "hla.miring.json").read_text())
    assert record["message"]["sample"] == "crc81n"  # from the R1 file's name, less _R1.fastq.gz
    assert record["reads"]["files"] == ["crc81n_R1.fastq.gz", "crc81n_R2.fastq.gz"]
    capsys.readouterr()
    truth = shared / "data" / "hla" / "truth.tsv"
    rc = main(["eval-hla", "--truth", str(truth), "--calls", str(out / "hla.tsv"), "--sample", "crc81n"])
    printed = capsys.readouterr().out
    assert rc == 0
    assert "all\t6/6\t100.0%" in printed


def test_eval_needs_sample_when_truth_has_many(tmp_path, capsys, shared):
    calls = tmp_path / "hla.tsv"
    calls.write_text("gene\tallele1\tallele2\tconfidence\nA\tA*01:01\tA*03:01\t10\n")
    rc = main(["eval-hla", "--truth", str(shared / "data" / "hla" / "truth.tsv"), "--calls", str(calls)])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "--sample" in err and "\n" not in err


def test_type_hla_bad_arguments_and_missing_reads(tmp_path, capsys):
    assert main(["type-hla", "--r1", "x", "--r2", "y"]) == 1  # --out missing
    assert capsys.readouterr().err.count("\n") == 1
    rc = main(
        [
            "type-hla",
            "--r1",
            str(tmp_path / "no_R1.fq"),
            "--r2",
            str(tmp_path / "no_R2.fq"),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1 and "file not found" in err and err.count("\n") == 1
    assert main(["type-hla", "--r1", "a", "--r2", "b", "--out", "c", "--hla-class", "3"]) == 1
