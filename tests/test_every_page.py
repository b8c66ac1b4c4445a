"""Every page a role is shown a link to opens for that role, on the demo service's data.

A crawl per role from the home page: each distinct screen (path, whatever the query) is opened once,
through the links the app itself shows that role, so a menu entry, a row link or a button that leads
to an error or a refusal fails here. Links that change data (delete, sign out) and file downloads are
not followed."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest

from tests.conftest import build_app, sign_in

LINK = re.compile(r'href="(/admin/[^"#]*)"')
NOT_FOLLOWED = ("/delete", "/export/", "/download/", "logout", "/admin/static/")


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    from admin_app.cli import seed_demo_data

    app = build_app(tmp_path_factory.mktemp("crawl"))
    with app.app_context():
        seed_demo_data(clients=30)
    return app


def crawl(client) -> tuple[set[str], list[tuple[int, str]]]:
    """Open each screen the app links to once; the screens seen and every (status, url) that failed."""
    screens, failed, queue = set(), [], ["/admin/"]
    while queue:
        url = html.unescape(queue.pop(0))
        screen = urlsplit(url).path
        if screen in screens or any(part in url for part in NOT_FOLLOWED):
            continue
        screens.add(screen)
        response = client.get(url)
        if response.status_code >= 400:
            failed.append((response.status_code, url))
        elif response.status_code == 200 and response.mimetype == "text/html":
            queue.extend(LINK.findall(response.get_data(as_text=True)))
    return screens, failed


@pytest.mark.parametrize("email", ["admin@demo.e4e", "manager@demo.e4e", "worker1@demo.e4e", "admin_staff@demo.e4e",
                                   "grant_panel@demo.e4e", "evaluator@demo.e4e", "commissioner@demo.e4e"])
def test_every_link_a_role_is_shown_opens(demo_app, email):
    client = demo_app.test_client()
    assert sign_in(client, email, demo_app.config["DEMO_PASSWORD"]).status_code == 302
    screens, failed = crawl(client)
    assert failed == []
    assert len(screens) >= 2, screens  # the crawl went beyond the home page
