"""Contract: lx_core builds every URL itself, and never with a doubled slash.

Third-party clients written against the real service often send ``https://host//services/...``;
real gateways accept it, and so does the emulator (an assumption, behind a switch). Our client
must not depend on that leniency: with the switch off, every call still works, and the emulator
counted no doubled slash.
"""

from __future__ import annotations

from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.tags import TagCatalog
from tests.contract.conftest import Admin, make_settings


def test_lx_core_never_sends_a_doubled_slash(admin: Admin) -> None:
    admin.call("PUT", "/config", json={"acceptDoubleSlash": False})
    admin.clear_stats()
    for host in (admin.url, admin.url + "/"):  # a trailing slash in the setting, too
        client = LeanIXClient(make_settings(host))
        _ = client.claims  # token exchange
        list(client.graphql.iter_fact_sheets("id", fact_sheet_type="Application", page_size=20))
        TagCatalog(client.graphql).group("TIME Model")
        client.webhooks.list_subscriptions()
        client.close()
    stats = admin.stats()
    assert stats["doubleSlashRequests"] == 0
    assert stats["statusCodes"].get("404", 0) == 0
    assert stats["total"] >= 8
