"""compute --json written by slices (outputs/terminal.write_results_json): the same document as
one built whole, for one level and several, whatever the slice boundaries."""

import io
import json

from acterr_cli import api
from acterr_cli.outputs import terminal


def test_streamed_json_is_the_whole_document(espace):
    levels = [api.compute_level(espace, level, store=False) for level in ("EPCI", "REGION")]
    expected = [json.loads(json.dumps(terminal.results_document(c, c.results), ensure_ascii=False, default=str)) for c in levels]
    for slice_rows in (1, 7, 100_000):  # a slice per row, slices that end mid-level, one slice
        one = io.StringIO()
        terminal.write_results_json(one, iter([(levels[0], levels[0].results)]), several=False, slice_rows=slice_rows)
        assert json.loads(one.getvalue()) == expected[0]
        both = io.StringIO()
        terminal.write_results_json(both, iter([(c, c.results) for c in levels]), several=True, slice_rows=slice_rows)
        assert json.loads(both.getvalue()) == {"version": 1, "calculs": expected}


def test_a_level_without_results_is_an_empty_list(espace):
    computation = api.compute_level(espace, "QPV", store=False)
    out = io.StringIO()
    terminal.write_results_json(out, iter([(computation, computation.results.head(0))]), several=False)
    assert json.loads(out.getvalue())["resultats"] == []
