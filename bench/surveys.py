"""Survey scoring: the pure scoring function's rate against a dict-sum baseline, and the LeanIX
calls one survey result costs on the webhook path.

Rate: ``score(model, answers)`` over the same answer sets as a baseline that only sums a dict of
points per answer (no weights, ranges, bands or explanation), both timed in this process. Calls:
against the emulator, a survey run over N Applications with every result submitted, then each
result scored by id as the survey webhook does (``SurveyScorer.score_result_id``), with every
target on; the emulator's request counts are split into the one-time set-up (API probe, survey
definition, the run's survey, tag group, metrics schema) and what each result costs.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench import report
from bench.common import EmulatorProcess, clear_process_caches, hermetic_env, make_client, require
from lx_core.decisions.survey_scoring import Answer, score
from lx_core.jobs.survey_scoring import SurveyScorer
from lx_core.state.memory import MemoryStore
from lx_core.surveys.model import ScoringModel

CHOICES = ("Yes", "Partly", "No")


def _model() -> ScoringModel:
    questions: list[dict[str, Any]] = [
        {"id": f"q{i}", "weight": 1 + i % 3, "points": {"Yes": 10, "Partly": 5, "No": 0}}
        for i in range(8)
    ]
    questions.append({"id": "deps", "ranges": [{"max": 3, "points": 10}, {"min": 3, "points": 0}]})
    return ScoringModel.model_validate(
        {
            "version": 1,
            "survey": {"title": "Cloud Readiness"},
            "questions": questions,
            "bands": [{"name": "High", "min": 70}, {"name": "Medium", "min": 40},
                      {"name": "Low", "min": 0}],
            "targets": {
                "field": {"name": "cloudReadinessScore"},
                "tag": {"group": "Cloud Readiness"},
                "metric": {"schema": "benchCloudReadiness"},
                "comment": {},
            },
        }
    )  # fmt: skip


def _answer_sets(n: int) -> list[dict[str, Answer | None]]:
    rng = random.Random(7)
    sets: list[dict[str, Answer | None]] = []
    for _ in range(n):
        answers: dict[str, Answer | None] = {f"q{i}": rng.choice(CHOICES) for i in range(8)}
        answers["deps"] = rng.randint(0, 6)
        sets.append(answers)
    return sets


def _baseline(points: dict[str, dict[str, float]], answers: dict[str, Answer | None]) -> float:
    return sum(points[q].get(str(a), 0.0) for q, a in answers.items() if q in points)


@dataclass
class SurveyResult:
    scored: int
    score_s: float
    baseline_s: float
    results: int
    setup_calls: dict[str, int]
    per_result_calls: dict[str, float]
    writes_per_result: float
    statuses: dict[str, int]

    @property
    def rate_ratio(self) -> float:
        """Scoring rate as a share of the baseline's rate."""
        return self.baseline_s / self.score_s


def measure_rate(n: int) -> tuple[float, float]:
    model = _model()
    sets = _answer_sets(n)
    points = {
        q.id: {str(k): float(v) for k, v in (q.points or {}).items()} for q in model.questions
    }
    best_score = best_base = float("inf")
    for _ in range(3):  # best of three: the least disturbed run of each
        started = time.perf_counter()
        for answers in sets:
            score(model, answers)
        best_score = min(best_score, time.perf_counter() - started)
        started = time.perf_counter()
        for answers in sets:
            _baseline(points, answers)
        best_base = min(best_base, time.perf_counter() - started)
    return best_score, best_base


_QUESTIONS = [
    {"id": f"q{i}", "type": "SINGLE_CHOICE", "label": f"Question {i}",
     "options": [{"id": f"q{i}-{c}", "label": c} for c in CHOICES]}
    for i in range(8)
] + [{"id": "deps", "type": "NUMBER", "label": "Dependencies"}]  # fmt: skip
_SETUP = (
    "GET /services/survey/v1/polls",
    "GET /services/survey/v1/polls/{id}",
    "GET /services/survey/v1/pollRuns/{id}",
    "GET /services/metrics/v2/schemas",
    "POST /services/metrics/v2/schemas",
)


def measure_calls(
    results: int,
) -> tuple[int, dict[str, int], dict[str, float], float, Counter[str]]:
    with hermetic_env(), EmulatorProcess("generated:200") as emu:
        poll = emu.admin(
            "POST", "/surveys/polls", json={"title": "Cloud Readiness", "questions": _QUESTIONS}
        )
        apps = emu.admin("GET", "/factsheets", params={"type": "Application", "limit": results})
        ids = [fs["id"] for fs in apps["factSheets"]]
        run = emu.admin("POST", "/surveys/runs", json={"pollId": poll["id"], "factSheetIds": ids})
        rng = random.Random(3)
        submitted = []
        for fs_id in ids:
            answers = [
                {"questionId": f"q{i}", "value": f"q{i}-{rng.choice(CHOICES)}"} for i in range(8)
            ] + [{"questionId": "deps", "value": rng.randint(0, 6)}]
            body = {"pollRunId": run["id"], "factSheetId": fs_id, "answers": answers,
                    "emitEvent": False}  # fmt: skip
            submitted.append(emu.admin("POST", "/surveys/results", json=body)["id"])
        clear_process_caches()
        emu.admin("DELETE", "/stats")
        client = make_client(emu.url)
        statuses: Counter[str] = Counter()
        try:
            scorer = SurveyScorer(client, [_model()], store=MemoryStore())
            for result_id in submitted:
                statuses[scorer.score_result_id(result_id).status] += 1
        finally:
            client.close()
        stats = emu.stats()
    requests_by: dict[str, int] = {k: int(v) for k, v in stats["requests"].items()}
    ops: dict[str, int] = dict(stats["graphql"]["operationNames"])
    setup = {k: v for k, v in requests_by.items() if k in _SETUP or "oauth2" in k}
    setup.update({f"graphql {op}": n for op, n in ops.items() if op.startswith("lxTag")})
    setup.update({f"graphql {op}": n for op, n in ops.items() if op.startswith("lxUpsert")})
    per: dict[str, float] = {}
    for key, n in requests_by.items():
        if key in setup or key.endswith("/graphql"):
            continue
        per[key] = n / results
    for op, n in ops.items():
        if f"graphql {op}" not in setup:
            per[f"graphql {op}"] = n / results
    writes = sum(
        v
        for k, v in per.items()
        if k.startswith(("POST /services/metrics", "graphql lxUpdate", "graphql lxCreate"))
    )
    return results, setup, per, writes, statuses


def measure(rate_items: int = 20_000, results: int = 50) -> SurveyResult:
    score_s, base_s = measure_rate(rate_items)
    n, setup, per, writes, statuses = measure_calls(results)
    require(statuses.get("changed") == n, f"every result should have been written: {statuses}")
    return SurveyResult(rate_items, score_s, base_s, n, setup, per, writes, dict(statuses))


def table(r: SurveyResult) -> report.Table:
    reads = {
        k: v for k, v in r.per_result_calls.items() if k.startswith(("GET", "graphql lxFactSheet"))
    }
    rows = [
        report.Row(
            "scoring rate (results/s)",
            report.count(round(r.scored / r.score_s)),
            report.count(round(r.scored / r.baseline_s)) + " (dict sum)",
            report.ratio(r.rate_ratio, "of the baseline"),
            "≥ 1/5 of the baseline",
            report.check(r.rate_ratio >= 0.2),
        ),
        report.Row(
            "reads per result",
            ", ".join(f"{k} {v:g}" for k, v in sorted(reads.items())),
            goal="1 result + 1 fact sheet",
            ok=report.check(
                reads.get("GET /services/survey/v1/pollResults/{id}") == 1
                and reads.get("graphql lxFactSheet") == 1
                and len(reads) == 2
            ),
        ),
        report.Row(
            "writes per result (4 targets)",
            f"{r.writes_per_result:g}",
            goal="≤ 1 per target",
            ok=report.check(r.writes_per_result <= 4),
        ),
        report.Row(
            "set-up calls, once for all results",
            report.count(sum(r.setup_calls.values())),
        ),
    ]
    notes = [
        f"rate: {r.scored:,} answer sets of 9 questions (8 choices with weights, 1 range); best "
        "of three runs each; the baseline only sums a dict of points per answer.",
        f"calls: {r.results} submitted results scored by id (the webhook path) with the field, "
        "tag, metric and comment targets; the poll definition and the run's survey are cached "
        f"per process. Outcomes: {r.statuses}.",
        "set-up: " + ", ".join(f"{k} {v}" for k, v in sorted(r.setup_calls.items())) + ".",
        "per result: "
        + ", ".join(f"{k} {v:g}" for k, v in sorted(r.per_result_calls.items()))
        + ".",
    ]
    return report.Table("surveys", "Survey scoring: rate and LeanIX calls per result", rows, notes)
