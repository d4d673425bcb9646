from workers.hla import evaluate


def test_match_count_two_fields_each_truth_allele_once():
    truth = ("A*01:01:01:01", "A*11:01:01:01")
    assert evaluate.match_count(truth, ("A*01:01", "A*11:01")) == 2
    assert evaluate.match_count(truth, ("A*11:01", "A*01:01")) == 2
    assert evaluate.match_count(truth, ("A*01:01", "A*01:01")) == 1  # truth A*01:01 used once
    assert evaluate.match_count(truth, ("A*01:02", "A*11:01")) == 1
    assert evaluate.match_count(truth, None) == 0


def test_homozygous_truth_needs_both_copies():
    truth = ("DPB1*04:01:01:01", "DPB1*04:01:01:01")
    assert evaluate.match_count(truth, ("DPB1*04:01", "DPB1*04:01")) == 2
    assert evaluate.match_count(truth, ("DPB1*04:01", "DPB1*02:01")) == 1


def test_score_and_summary_split_low_confidence_rows():
    truth = {
        "A": {"alleles": ("A*01:01", "A*03:01"), "note": ""},
        "DRB1": {"alleles": ("DRB1*03:02", "DRB1*10:01"), "note": "LOW CONFIDENCE: tools disagree"},
    }
    calls = {"A": ("A*01:01", "A*03:01"), "DRB1": ("DRB1*03:02", "DRB1*14:02")}
    scores = evaluate.score(truth, calls)
    assert [s.matched for s in scores] == [2, 1]
    summ = evaluate.summary(scores)
    assert summ["all"] == (3, 4)
    assert summ["confident"] == (2, 2)


def test_missing_call_scores_zero():
    truth = {"B": {"alleles": ("B*07:02", "B*39:39"), "note": ""}}
    assert evaluate.score(truth, {})[0].matched == 0
