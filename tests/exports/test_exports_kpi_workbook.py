"""The IPS KPI and fidelity workbook presents exactly the report's figures, per worker and for the service."""
from __future__ import annotations

import pytest
from exports_helpers import QUARTER, YEAR, build, by_heading, context, day, table

from admin_app.metrics.report import load_report
from exports.figures import FIGURES, figure, item_label, target_of


@pytest.fixture(scope="module", params=[QUARTER, YEAR], ids=["quarter", "year"])
def kpis(request, demo_db, tmp_path_factory):
    workbook, rows = build(demo_db, "kpi_fidelity", context(request.param), tmp_path_factory.mktemp("kpi"))
    return workbook, rows, load_report(demo_db, {}, request.param)


def test_the_kpi_sheet_lists_every_figure_of_the_report(kpis):
    workbook, rows, report = kpis
    headings, shown = table(workbook["KPIs"])
    assert headings == ["Figure", "Actual", "Target", "RAG", "Benchmark"]
    assert [row[0] for row in shown] == [f.label for f in FIGURES] and rows["KPIs"] == len(FIGURES)
    for fig, row in zip(FIGURES, shown):
        assert day(row[1]) == figure(report["service"], fig.path), fig.label
        assert row[2] == target_of(report["service"], fig).get("target")


def test_workers_sheet_gives_every_figure_per_worker_and_a_whole_service_row(kpis):
    workbook, _, report = kpis
    headings, data = table(workbook["Workers"])
    assert all(f.label in headings for f in FIGURES)
    *workers, service = data
    assert [by_heading(headings, w)["Email or key"] for w in workers] == list(report["workers"])
    for row in workers:
        shown = by_heading(headings, row)
        figures = report["workers"][shown["Email or key"]]
        assert shown["FTE"] == figures["fte"]
        for fig in FIGURES:
            assert day(shown[fig.label]) == figure(figures, fig.path), (shown["Email or key"], fig.label)
    whole = by_heading(headings, service)
    assert whole["Worker"] == "Whole service"
    for fig in FIGURES:
        assert day(whole[fig.label]) == figure(report["service"], fig.path), fig.label
        if fig.additive:
            column = sum(by_heading(headings, w)[fig.label] or 0 for w in workers)
            assert column == pytest.approx(whole[fig.label], abs=0.05), fig.label


def test_fidelity_sheets_show_each_item_for_the_service_and_each_worker(kpis):
    workbook, _, report = kpis
    _, service_rows = table(workbook["Fidelity"])
    items = report["service"]["fidelity"]
    assert [row[0] for row in service_rows] == [item_label(item) for item in items]
    for row, value in zip(service_rows, items.values()):
        assert (row[1], row[3], row[4]) == (value["value"], value["score"], value["rag"])
    headings, data = table(workbook["Fidelity by worker"])
    *workers, whole = data
    for row in workers:
        shown = by_heading(headings, row)
        for item, value in report["workers"][shown["Email or key"]]["fidelity"].items():
            assert shown[f"{item_label(item)}: value"] == value["value"]
            assert shown[f"{item_label(item)}: score"] == value["score"]
    shown = by_heading(headings, whole)
    assert all(shown[f"{item_label(i)}: score"] == v["score"] for i, v in items.items())


def test_anchors_sheet_shows_the_anchors_the_scores_used(kpis):
    workbook, _, report = kpis
    _, rows = table(workbook["Anchors"])
    assert {row[0]: list(row[2:6]) for row in rows} == \
        {item_label(item): list(anchor["thresholds"]) for item, anchor in report["anchors"].items()}
