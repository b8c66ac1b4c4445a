"""axe-core, run in the real browser on the page it shows now.

The axe-core script ships inside the selenium-axe-python package, so nothing is downloaded at
run time. A page passes when axe finds no serious or critical violation of WCAG 2.2 A and AA.
"""
from __future__ import annotations

from selenium_axe_python import Axe

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = ("serious", "critical")


def violations(driver, impacts=FAILING_IMPACTS) -> list[dict]:
    """The violations axe finds on the current page at the given impacts."""
    axe = Axe(driver)
    axe.inject()
    # Only the violations come back: the passes and the incomplete checks are most of axe's answer.
    results = axe.run(options={"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]})
    return [v for v in results["violations"] if v.get("impact") in impacts]


def describe(found: list[dict]) -> str:
    """One readable line per violation and the elements it was found on."""
    lines = []
    for violation in found:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']}) at {targets}")
    return "\n".join(lines)


def assert_accessible(driver, where: str = "") -> None:
    """Fail with a readable list when axe finds a serious or critical violation."""
    found = violations(driver)
    assert not found, f"axe on {where or driver.current_url}:\n{describe(found)}"
