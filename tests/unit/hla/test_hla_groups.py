"""G and P groups from the shipped release and GL Strings (version 1.1 syntax)."""

from workers.hla import groups, names
from workers.hla.calls import GeneCall
from workers.hla.reference import DEFAULT_REFERENCE

SHIPPED = groups.Groups.load(DEFAULT_REFERENCE)


def test_the_shipped_release_has_g_and_p_groups():
    assert SHIPPED.loaded
    assert SHIPPED.g_group("A*02:01:01:01") == "A*02:01:01G"
    assert SHIPPED.g_group("DQB1*06:44") == "DQB1*06:03:01G"  # same exon 2 as 06:03
    assert SHIPPED.g_group("A*02:52") == "A*02:52"  # in no group: its own name
    assert SHIPPED.p_group("A*01:03:01:02") == "A*01:03P"


def test_without_the_files_there_are_no_groups(tmp_path):
    none = groups.Groups.load(tmp_path)
    assert not none.loaded and none.g_group("A*02:01:01:01") is None and none.p_group("A*02:01") is None


def test_gl_strings_write_each_kind_of_ambiguity():
    assert groups.genotype_gl([("A*24:02:01G", "A*02:01:01G")]) == "HLA-A*02:01:01G+HLA-A*24:02:01G"
    shared = [("DPB1*04:01:01G", "DPB1*04:01:01G"), ("DPB1*33:01:01G", "DPB1*04:01:01G")]
    assert groups.genotype_gl(shared) == "HLA-DPB1*04:01:01G+HLA-DPB1*04:01:01G/HLA-DPB1*33:01:01G"
    apart = [("A*01:01:01G", "A*02:01:01G"), ("A*01:02", "A*02:05:01G")]
    assert groups.genotype_gl(apart) == "HLA-A*01:01:01G+HLA-A*02:01:01G|HLA-A*01:02+HLA-A*02:05:01G"
    assert groups.sample_gl(["HLA-A*01:01:01G+HLA-A*02:01:01G", "", "HLA-B*07:02:01G+HLA-B*08:01:01G"]) == (
        "HLA-A*01:01:01G+HLA-A*02:01:01G^HLA-B*07:02:01G+HLA-B*08:01:01G"
    )


def test_three_fields_are_given_only_where_the_reads_decide_them():
    call = GeneCall("A", "A*02:01", "A*24:02", full1="A*02:01:01:01", full2="A*24:02:01:01")
    call.tied = [("A*02:01:01:01", "A*24:02:01:01"), ("A*24:02:01:02L", "A*02:01:01:05")]
    groups.resolve(call, SHIPPED)
    assert (call.three_field1, call.three_field2) == ("A*02:01:01", "A*24:02:01")
    call.tied.append(("A*02:01:02", "A*24:02:01:01"))  # a synonymous difference the reads miss
    groups.resolve(call, SHIPPED)
    assert (call.three_field1, call.three_field2) == (None, "A*24:02:01")
    assert call.gl_string.startswith("HLA-A*02:01:01G")
    assert names.three_field("A*01:01:01:02N") == "A*01:01:01" and names.three_field("A*24:09N") == "A*24:09N"
