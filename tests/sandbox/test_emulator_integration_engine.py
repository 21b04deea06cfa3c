"""The emulator's processor engine over real HTTP: inbound fact sheets, relations, tags,
variables, forEach, filters, delete mode, full-mode deletion and outbound results."""

from __future__ import annotations

from typing import Any

from tests.sandbox.conftest import Api
from tests.sandbox.integration_client import (
    Integration,
    external,
    fact_sheet_processor,
    update,
)

JsonDict = dict[str, Any]


def _item(content_type: str, content_id: str, **data: Any) -> JsonDict:
    return {"type": content_type, "id": content_id, "data": data}


def test_inbound_creates_then_updates_with_rev_and_events(emu: Api) -> None:
    intg = Integration(emu)
    ident = intg.configure(
        [
            fact_sheet_processor(
                "Application",
                "app",
                update("name", "${data.name}"),
                update("description", "${data.text}"),
                update("functionalSuitability", "${data.fit}"),
                update("lifecycle.active", "${data.since}"),
            )
        ]
    )
    since = emu.admin("GET", "/events")["endOffset"]
    _, status = intg.run(
        intg.ldif(
            ident,
            [_item("app", "a-1", name="Payroll", text="v1", fit="perfect", since="2020-01-31")],
        )
    )
    assert status["status"] == "FINISHED"
    app = intg.by_external("Application")["a-1"]
    assert (app["name"], app["description"], app["rev"]) == ("Payroll", "v1", 0)
    assert app["values"] == {"functionalSuitability": "perfect"}
    assert app["attributes"]["lifecycle"] == {"active": "2020-01-31"}

    intg.run(
        intg.ldif(
            ident,
            [_item("app", "a-1", name="Payroll", text="v2", fit="perfect", since="2020-01-31")],
        )
    )
    again = intg.by_external("Application")["a-1"]
    assert (again["id"], again["description"], again["rev"]) == (app["id"], "v2", 1)
    # The same data once more changes nothing: no rev bump, no event.
    intg.run(
        intg.ldif(
            ident,
            [_item("app", "a-1", name="Payroll", text="v2", fit="perfect", since="2020-01-31")],
        )
    )
    assert intg.by_external("Application")["a-1"]["rev"] == 1
    kinds = [
        e["event"]["tags"][1]
        for e in emu.admin("GET", f"/events?since={since}&tag=pathfinder")["events"]
        if e["event"]["payload"]["factSheet"]["id"] == app["id"]
    ]
    assert kinds == ["FACT_SHEET_CREATED", "FACT_SHEET_UPDATED"]


def test_relations_are_made_at_a_later_run_level(emu: Api) -> None:
    intg = Integration(emu)
    relation = {
        "processorType": "inboundRelation",
        "processorName": "app uses itc",
        "type": "relApplicationToITComponent",
        "filter": {"exactType": "app"},
        "from": external(),
        "to": external("${data.itc}"),
        "run": 1,
        "updates": [update("description", "${data.why}")],
    }
    ident = intg.configure(
        [
            relation,
            fact_sheet_processor("Application", "app"),
            fact_sheet_processor("ITComponent", "itc"),
        ]
    )
    content = [
        _item("app", "a-1", name="HR", itc="i-1", why="database"),
        _item("app", "a-2", name="CRM", itc="missing"),
        _item("itc", "i-1", name="PostgreSQL"),
    ]
    run_id, status = intg.run(intg.ldif(ident, content))
    assert status["status"] == "FINISHED"
    apps, itcs = intg.by_external("Application"), intg.by_external("ITComponent")
    rels = apps["a-1"]["relations"]
    assert [(r["type"], r["toId"], r["attributes"]) for r in rels] == [
        ("relApplicationToITComponent", itcs["i-1"]["id"], {"description": "database"})
    ]
    assert itcs["i-1"]["relations"][0]["fromId"] == apps["a-1"]["id"]
    assert apps["a-2"]["relations"] == []
    warnings = intg.warnings(run_id)
    assert [(w["content"], w["processor"]["name"]) for w in warnings] == [("a-2", "app uses itc")]
    assert "'to' fact sheet was not found" in warnings[0]["message"]


def test_tags_go_to_other_tags_and_groups_are_never_created(emu: Api) -> None:
    intg = Integration(emu)
    before = emu.admin("GET", "/workspace")["tagGroups"]
    hosting = next(g for g in before if g["name"] == "Hosting")
    tag_proc = {
        "processorType": "inboundTag",
        "processorName": "tags",
        "filter": {"exactType": "app"},
        "factSheets": {"external": {"ids": "${content.id}", "type": {"expr": "externalId"}}},
        "forEach": {"elementOf": "${data.tags}"},
        "run": 1,
        "updates": [update("name", "${integration.valueOfForEach}")],
    }
    grouped = {
        **tag_proc,
        "processorName": "grouped",
        "forEach": None,
        "updates": [update("name", "${data.hosting}"), update("group.name", "${data.group}")],
    }
    ident = intg.configure([fact_sheet_processor("Application", "app"), tag_proc, grouped])
    content = [
        _item(
            "app",
            "a-1",
            name="HR",
            tags=["new-tag", "other"],
            hosting=hosting["tags"][0]["name"],
            group="Hosting",
        ),
        _item("app", "a-2", name="CRM", tags=["new-tag"], hosting="x", group="No Such Group"),
    ]
    run_id, status = intg.run(intg.ldif(ident, content))
    assert status["status"] == "FINISHED"
    ws = emu.admin("GET", "/workspace")
    assert [g["name"] for g in ws["tagGroups"]] == [g["name"] for g in before]
    apps = intg.by_external("Application")
    tags = {t["id"]: t for t in emu.admin("GET", "/workspace")["tagGroups"][0]["tags"]}
    assert tags  # the TIME group still has its tags
    a1 = emu.admin("GET", f"/factsheets/{apps['a-1']['id']}")
    names = {(t["name"], (t["tagGroup"] or {}).get("name")) for t in a1["tags"]}
    assert names == {("new-tag", None), ("other", None), (hosting["tags"][0]["name"], "Hosting")}
    a2 = emu.admin("GET", f"/factsheets/{apps['a-2']['id']}")
    assert [t["name"] for t in a2["tags"]] == ["new-tag"]
    assert set(a1["tagIds"]) & set(a2["tagIds"])  # one "new-tag", shared
    messages = [w["message"] for w in intg.warnings(run_id)]
    assert messages == ["Tag group 'No Such Group' does not exist (tag groups are never created)"]


def test_tags_read_only_assigns_existing_tags_only(emu: Api) -> None:
    intg = Integration(emu)
    proc = {
        "processorType": "inboundTag",
        "processorName": "ro",
        "filter": {"exactType": "app"},
        "tagsReadOnly": True,
        "factSheets": {"external": {"ids": "${content.id}"}},
        "run": 1,
        "updates": [update("name", "${data.tag}")],
    }
    ident = intg.configure([fact_sheet_processor("Application", "app"), proc])
    run_id, _ = intg.run(intg.ldif(ident, [_item("app", "a-1", name="HR", tag="brand-new")]))
    assert intg.by_external("Application")["a-1"]["tagIds"] == []
    assert "does not exist (tagsReadOnly)" in intg.warnings(run_id)[0]["message"]


def test_variables_are_visible_at_later_levels_only(emu: Api) -> None:
    intg = Integration(emu)
    collect = {
        "processorType": "variableProcessor",
        "processorName": "collect",
        "filter": {"exactType": "app"},
        "run": 0,
        "variables": [{"key": "names", "value": "${data.name}"}],
    }
    same_level = fact_sheet_processor(
        "Application",
        "app",
        update("name", "${data.name}"),
        update("description", "${variables.names}"),
    )
    later = {
        **fact_sheet_processor(
            "Application", "app", update("alias", "${variables.names.size()} apps")
        ),
        "processorName": "later",
        "run": 1,
    }
    ident = intg.configure([collect, same_level, later])
    run_id, _ = intg.run(
        intg.ldif(ident, [_item("app", "a-1", name="HR"), _item("app", "a-2", name="CRM")])
    )
    apps = intg.by_external("Application")
    assert apps["a-1"]["description"] is None and apps["a-2"]["description"] is None
    assert apps["a-1"]["attributes"]["alias"] == "2 apps"
    # The same-level read found nothing: one "no value" warning per item.
    assert [w["message"] for w in intg.warnings(run_id)] == ["No value for key 'description'"] * 2


def test_for_each_over_a_map_and_write_to_ldif_results(emu: Api) -> None:
    intg = Integration(emu)
    proc = {
        "processorType": "writeToLdif",
        "processorName": "export",
        "filter": {"exactType": "app"},
        "forEach": {
            "elementOf": "${data.versions}",
            "filter": "${integration.valueOfForEach != 'skip'}",
        },
        "updates": [
            update("content.id", "${content.id}-${integration.keyOfForEach}"),
            update("version", "${integration.valueOfForEach}"),
            update("index", "${integration.indexOfForEach}"),
        ],
    }
    ident = intg.configure([proc])
    run_id, _ = intg.run(
        intg.ldif(
            ident, [_item("app", "a-1", versions={"prod": "1.2", "test": "skip", "dev": "2.0"})]
        )
    )
    r = intg.get(run_id, "results")
    assert r.status_code == 200
    results = r.json()
    assert results["connectorId"] == ident["connectorId"]
    assert results["content"] == [
        {"type": "app", "id": "a-1-prod", "data": {"version": "1.2", "index": 0}},
        {"type": "app", "id": "a-1-dev", "data": {"version": "2.0", "index": 2}},
    ]
    assert intg.fact_sheets("Application")[0]["externalId"] is None  # nothing was written


def test_filters_type_prefix_id_advanced_and_on_read(emu: Api) -> None:
    intg = Integration(emu)
    by_prefix = {**fact_sheet_processor("Application", "x"), "filter": {"type": "app", "id": "a-"}}
    advanced = {
        **fact_sheet_processor("ITComponent", "x"),
        "filter": {"exactType": "itc", "advanced": "${data.keep == 'yes'}"},
    }
    update_only = {
        **fact_sheet_processor("Application", "x", update("description", "${data.text}")),
        "processorName": "update only",
        "filter": {"exactType": "upd", "onRead": "${lx.factsheet.name == 'HR'}"},
        "run": 1,
    }
    ident = intg.configure([by_prefix, advanced, update_only])
    content = [
        _item("application", "a-1", name="HR"),  # "app" matches from the start
        _item("xapp", "a-2", name="no"),  # not from the start
        _item("app", "b-3", name="wrong id"),
        _item("itc", "i-1", name="kept", keep="yes"),
        _item("itc", "i-2", name="dropped", keep="no"),
        _item("upd", "a-1", text="updated"),  # exists and is named HR
        _item("upd", "a-9", text="never created"),  # does not exist: onRead skips it
    ]
    run_id, status = intg.run(intg.ldif(ident, content))
    assert status["status"] == "FINISHED"
    apps = intg.by_external("Application")
    assert set(apps) == {"a-1"} and apps["a-1"]["description"] == "updated"
    assert set(intg.by_external("ITComponent")) == {"i-1"}
    assert intg.warnings(run_id) == []


def test_delete_mode_archives_and_external_id_then_creates_a_new_one(emu: Api) -> None:
    intg = Integration(emu)
    create = fact_sheet_processor("Application", "app")
    delete = {
        **fact_sheet_processor("Application", "del"),
        "processorName": "delete",
        "mode": "delete",
    }
    ident = intg.configure([create, delete])
    intg.run(intg.ldif(ident, [_item("app", "a-1", name="HR")]))
    first = intg.by_external("Application")["a-1"]
    intg.run(intg.ldif(ident, [_item("del", "a-1")]))
    assert emu.admin("GET", f"/factsheets/{first['id']}")["status"] == "ARCHIVED"
    assert "a-1" not in intg.by_external("Application")
    intg.run(intg.ldif(ident, [_item("app", "a-1", name="HR again")]))
    second = intg.by_external("Application")["a-1"]
    assert second["id"] != first["id"] and second["name"] == "HR again"
    assert emu.admin("GET", f"/factsheets/{first['id']}")["status"] == "ARCHIVED"


def test_internal_and_search_identifiers(emu: Api) -> None:
    intg = Integration(emu)
    apps = emu.admin("GET", "/factsheets?type=Application&limit=2")["factSheets"]
    internal = {
        **fact_sheet_processor("Application", "int", update("description", "${data.text}")),
        "identifier": {"internal": "${content.id}"},
    }
    search = {
        **fact_sheet_processor("Application", "srch", update("alias", "${data.alias}")),
        "identifier": {
            "search": {
                "scope": {
                    "facetFilters": [{"facetKey": "FactSheetTypes", "keys": ["Application"]}],
                    "ids": [],
                },
                "filter": "${lx.factsheet.name == data.name}",
                "multipleMatchesAllowed": False,
            }
        },
    }
    ident = intg.configure([internal, search])
    content = [
        _item("int", apps[0]["id"], text="by internal id"),
        _item("int", "no-such-id", text="x"),
        _item("srch", "s-1", name=apps[1]["name"], alias="found by search"),
        _item("srch", "s-2", name="nobody has this name", alias="x"),
    ]
    run_id, _ = intg.run(intg.ldif(ident, content))
    assert emu.admin("GET", f"/factsheets/{apps[0]['id']}")["description"] == "by internal id"
    assert emu.admin("GET", f"/factsheets/{apps[1]['id']}")["attributes"] == {
        "alias": "found by search"
    }
    warnings = intg.warnings(run_id)
    assert [w["content"] for w in warnings] == ["no-such-id"]


def test_value_mapping_optional_and_unknown_fields(emu: Api) -> None:
    intg = Integration(emu)
    mapping = {
        "key": {"expr": "technicalSuitability"},
        "values": [
            {
                "expr": "${data.grade}",
                "regexMatch": "A|B",
                "regexReplace": {"match": "^.*$", "replace": "fullyAppropriate"},
            },
            {
                "expr": "${data.grade}",
                "regexMatch": ".*",
                "regexReplace": {"match": "^.*$", "replace": "adequate"},
            },
        ],
    }
    renamed = {
        "key": {"expr": "alias"},
        "values": [
            {
                "expr": "${data.code}",
                "regexReplace": {"match": "^(\\w+)-(\\d+)$", "replace": "$2/$1"},
            }
        ],
    }
    proc = fact_sheet_processor(
        "Application",
        "app",
        update("name", "${data.name}"),
        mapping,
        renamed,
        update("release", "${data.missing}", optional=True),
        update("noSuchField", "value"),
        update("lifecycle.active", "31.12.2020"),
    )
    ident = intg.configure([proc])
    run_id, _ = intg.run(
        intg.ldif(
            ident,
            [
                _item("app", "a-1", name="HR", grade="A", code="HR-42"),
                _item("app", "a-2", name="CRM", grade="Z"),
            ],
        )
    )
    apps = intg.by_external("Application")
    assert apps["a-1"]["values"]["technicalSuitability"] == "fullyAppropriate"
    assert apps["a-2"]["values"]["technicalSuitability"] == "adequate"
    assert apps["a-1"]["attributes"] == {"alias": "42/HR"}
    messages = sorted({(w["message"], w["status"]) for w in intg.warnings(run_id)})
    assert messages == [
        ("Field 'noSuchField' does not exist on Application", "WARNING"),
        ("Invalid date '31.12.2020' for lifecycle.active (expected yyyy-mm-dd)", "ERROR"),
        ("No value for key 'alias'", "WARNING"),
    ]
    progress = intg.get(run_id, "progress").json()
    assert progress["errorCount"] == 2 and progress["warningsCount"] == 3


def test_juel_error_is_a_warning_for_that_item_only(emu: Api) -> None:
    intg = Integration(emu)
    proc = fact_sheet_processor(
        "Application",
        "app",
        update("name", "${data.name}"),
        update("description", "${data.name.noSuchMethod()}"),
    )
    broken_filter = {
        **fact_sheet_processor("ITComponent", "app"),
        "filter": {"advanced": "${data.x ==}"},
    }
    ident = intg.configure([proc, broken_filter])
    run_id, status = intg.run(
        intg.ldif(ident, [_item("app", "a-1", name="HR"), _item("app", "a-2", name="CRM")])
    )
    assert status["status"] == "FINISHED"
    apps = intg.by_external("Application")  # only the broken update is skipped
    assert {k: (v["name"], v["description"]) for k, v in apps.items()} == {
        "a-1": ("HR", None),
        "a-2": ("CRM", None),
    }
    warnings = intg.warnings(run_id)
    assert {w["category"] for w in warnings} == {"JUEL"}
    assert {(w["content"], w["processor"]["index"]) for w in warnings} == {
        ("a-1", 0),
        ("a-2", 0),
        ("a-1", 1),
        ("a-2", 1),
    }


def test_not_emulated_processor_types_warn_once(emu: Api) -> None:
    intg = Integration(emu)
    ident = intg.configure(
        [
            {"processorType": "inboundMetrics", "processorName": "metrics", "run": 0},
            {**fact_sheet_processor("Application", "app"), "enabled": False},
        ]
    )
    run_id, status = intg.run(
        intg.ldif(ident, [_item("app", "a-1", name="x"), _item("app", "a-2", name="y")])
    )
    assert status["status"] == "FINISHED"
    assert intg.by_external("Application") == {}
    warnings = intg.warnings(run_id)
    assert [(w["category"], w["processor"]["name"]) for w in warnings] == [
        ("NOT_EMULATED", "metrics")
    ]


def _full(intg: Integration, ratio: float | None) -> JsonDict:
    scope: JsonDict = {
        "factSheets": [
            {"scope": {"facetFilters": [{"facetKey": "FactSheetTypes", "keys": ["Project"]}]}}
        ]
    }
    if ratio is not None:
        scope["maximumDeletionRatio"] = {"factSheets": ratio}
    return intg.configure(
        [fact_sheet_processor("Project", "prj")], name="full", mode="full", deletionScope=scope
    )


def test_full_mode_archives_untouched_fact_sheets_in_scope(emu: Api) -> None:
    intg = Integration(emu)
    ident = _full(intg, None)
    intg.run(intg.ldif(ident, [_item("prj", f"p-{i}", name=f"P{i}") for i in range(4)]))
    apps_before = len(intg.by_external("Application"))
    run_id, status = intg.run(
        intg.ldif(ident, [_item("prj", f"p-{i}", name=f"P{i}") for i in range(2)])
    )
    assert status["status"] == "FINISHED"
    assert set(intg.by_external("Project")) == {"p-0", "p-1"}  # 2 of 4 = 50 %: allowed
    assert len(intg.by_external("Application")) == apps_before  # out of scope
    assert intg.warnings(run_id) == []


def test_full_mode_ratio_guard_cancels_with_a_warning(emu: Api) -> None:
    intg = Integration(emu)
    ident = _full(intg, None)
    intg.run(intg.ldif(ident, [_item("prj", f"p-{i}", name=f"P{i}") for i in range(4)]))
    run_id, status = intg.run(intg.ldif(ident, [_item("prj", "p-0", name="P0")]))
    assert status["status"] == "FINISHED"
    assert len(intg.by_external("Project")) == 4  # 75 % > 50 %: cancelled
    (warning,) = intg.warnings(run_id)
    assert warning["category"] == "DELETION" and "Deletion cancelled: 3 of 4" in warning["message"]
    # 101 allows removing everything in scope ([V] §1).
    ident = _full(intg, 101)
    intg.run(intg.ldif(ident, []))
    assert intg.by_external("Project") == {}


def test_outbound_results_204_before_finish_then_ldif(emu: Api) -> None:
    intg = Integration(emu, pending=0.3, run=0.05)
    proc = {
        "processorType": "outboundFactSheet",
        "processorName": "export",
        "filter": {"exactType": "ITComponent"},
        "fields": ["name", "description"],
        "output": [
            {"key": {"expr": "name"}, "values": [{"expr": "${lx.factsheet.name}"}]},
            {
                "key": {"expr": "label"},
                "mode": "selectFirst",
                "values": [
                    {"expr": "${lx.factsheet.description}"},
                    {"expr": "${lx.factsheet.name} (${lx.factsheet.type})"},
                ],
            },
            {
                "key": {"expr": "hidden"},
                "values": [{"expr": "${lx.factsheet.functionalSuitability}"}],
                "optional": True,
            },
        ],
    }
    scope = {
        "facetFilters": [
            {"facetKey": "FactSheetTypes", "keys": ["ITComponent", "BusinessCapability"]}
        ],
        "ids": [],
    }
    ident = intg.configure([proc], name="out", direction="outbound", scope=scope)
    run_id = intg.create(intg.ldif(ident, []))
    assert intg.status(run_id)["status"] == "PENDING"
    assert intg.get(run_id, "results").status_code == 204
    assert intg.get(run_id, "resultsUrl").json() == {"url": None}
    assert intg.wait(run_id)["status"] == "FINISHED"
    r = intg.get(run_id, "results")
    assert r.status_code == 200
    results = r.json()
    itcs = emu.admin("GET", "/factsheets?type=ITComponent&limit=100")["factSheets"]
    assert results["processingDirection"] == "outbound"
    assert [c["id"] for c in results["content"]] == [fs["id"] for fs in itcs]
    first = results["content"][0]
    assert first["type"] == "ITComponent"
    assert first["data"]["name"] == itcs[0]["name"]
    assert first["data"]["label"] == (itcs[0]["description"] or f"{itcs[0]['name']} (ITComponent)")
    assert "hidden" not in first["data"]
    progress = intg.get(run_id, "progress").json()
    assert progress["itemsInScopeCount"] == len(itcs) + 5  # BusinessCapabilities are in scope
    assert progress["contentsCount"] == len(itcs)
    url = intg.get(run_id, "resultsUrl").json()["url"]
    assert url and emu.session.get(url, timeout=10).json() == results
    assert emu.session.get(url.replace("sig=", "sig=x"), timeout=10).status_code == 403


def test_delete_mode_of_relations_and_tags_and_unsupported_filters(emu: Api) -> None:
    intg = Integration(emu)
    relation: JsonDict = {
        "processorType": "inboundRelation",
        "processorName": "rel",
        "type": "relApplicationToITComponent",
        "filter": {"exactType": "app"},
        "from": external(),
        "to": external("${data.itc}"),
        "run": 1,
    }
    tag: JsonDict = {
        "processorType": "inboundTag",
        "processorName": "tag",
        "filter": {"exactType": "app"},
        "factSheets": {"external": {"ids": "${content.id}"}},
        "run": 1,
        "updates": [update("name", "cloud")],
    }
    create = [
        fact_sheet_processor("Application", "app"),
        fact_sheet_processor("ITComponent", "itc"),
        relation,
        tag,
    ]
    content = [_item("itc", "i-1", name="DB"), _item("app", "a-1", name="HR", itc="i-1")]
    ident = intg.configure(create)
    intg.run(intg.ldif(ident, content))
    app = intg.by_external("Application")["a-1"]
    assert len(app["relations"]) == 1 and len(app["tagIds"]) == 1
    deleting = [
        {**relation, "mode": "delete", "run": 0},
        {
            **tag,
            "mode": "delete",
            "run": 0,
            "filter": {"exactType": "app", "updatedInDuration": "P3D"},
        },
    ]
    ident = intg.configure(deleting, name="del")
    run_id, _ = intg.run(intg.ldif(ident, content))
    app = intg.by_external("Application")["a-1"]
    assert app["relations"] == [] and app["tagIds"] == []
    tags = emu.admin("GET", f"/factsheets/{app['id']}")["tags"]
    assert tags == []
    (warning,) = intg.warnings(run_id)
    assert (
        warning["message"]
        == "filter.updatedInDuration is not emulated by the sandbox; it was ignored"
    )
