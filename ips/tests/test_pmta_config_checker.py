"""The directive table and its checker: every line rendered for the demo and the scale fleet is in the table,
in a context the table allows, with a value of its grammar; and the checker catches what PMTA would refuse."""

import pytest
from django.core.management import call_command

from emailengine.scale import ScaleSize, scale_build
from ips.models import IPAddress, MtaServer
from ips.pmta_config import render_server_config
from ips.pmta_directives import (
    BLOCKS,
    DIRECTIVES,
    DirectiveError,
    block_open,
    config_check,
    directive_line,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("provider_groups")]

SMALL_SCALE = ScaleSize(
    tenants=3,
    ips=40,
    pools=5,
    servers=2,
    domains=8,
    days=2,
    campaigns_per_tenant=1,
    warmup_share=0.3,
    audit_events=5,
    delivery_events=10,
    suppressions_per_tenant=2,
)


def _check_fleet() -> dict[str, str]:
    rendered: dict[str, str] = {}
    servers = list(MtaServer.objects.order_by("name"))
    assert servers
    for server in servers:
        files = render_server_config(server)
        problems = config_check(files)
        assert not problems, f"{server.name}:\n" + "\n".join(map(str, problems))
        rendered.update({f"{server.name}/{name}": text for name, text in files.items()})
    return rendered


def test_it_accepts_every_line_of_the_demo_fleet():
    call_command("seed_demo", "--json")
    rendered = _check_fleet()
    vmtas = rendered["pmta-1/emailengine-vmtas.conf"]
    # The demo fleet exercises what matters: signing, grouped provider caps, a held IP.
    assert "        dkim-sign yes" in vmtas
    assert "    domain-key " in vmtas
    assert "queue-to gmail.queue" in vmtas
    assert "    max-smtp-msg-rate 0" in vmtas
    assert IPAddress.objects.filter(status="paused").exists()


def test_it_accepts_every_line_of_the_scale_fleet():
    scale_build(SMALL_SCALE)
    rendered = _check_fleet()
    assert len([name for name in rendered if name.endswith("vmtas.conf")]) == 2
    assert any("max-smtp-msg-rate 0" in text for text in rendered.values())


def test_every_row_cites_a_ug5_section():
    for row in [*DIRECTIVES.values(), *BLOCKS.values()]:
        assert row.section.startswith("UG5 "), row
        assert row.meaning


def test_the_line_builders_refuse_what_the_table_does_not_allow():
    assert directive_line("max-msg-rate", "25/3h", context="domain", indent=4) == "    max-msg-rate 25/3h"
    with pytest.raises(DirectiveError, match="not in the directive table"):
        directive_line("max-msg-per-day", "5", context="domain")
    with pytest.raises(DirectiveError, match="not allowed in virtual-mta"):
        directive_line("max-msg-rate", "5/h", context="virtual-mta")  # per queue, not per VMTA
    with pytest.raises(DirectiveError, match="grammar"):
        directive_line("max-smtp-msg-rate", "0/h", context="virtual-mta")  # N must be non-zero
    with pytest.raises(DirectiveError, match="grammar"):
        directive_line("dkim-sign", "maybe", context="domain")
    with pytest.raises(DirectiveError, match="may not open"):
        block_open("virtual-mta", "v1", context="virtual-mta")


def _problems(text: str) -> list[str]:
    return [problem.reason for problem in config_check({"x.conf": text})]


def test_the_checker_reports_each_kind_of_problem():
    assert (
        _problems("<virtual-mta v1>\n    smtp-source-host 192.0.2.1 mail.example.net # ok\n</virtual-mta>\n")
        == []
    )
    assert _problems("bogus-directive 1\n") == ["bogus-directive is not in the directive table"]
    assert _problems("<virtual-mta v1>\n    max-msg-rate 5/h\n</virtual-mta>\n") == [
        "max-msg-rate is not allowed in virtual-mta (UG5 3.3.10.33)"
    ]
    assert _problems("<virtual-mta v1>\n    max-smtp-msg-rate 5/week\n</virtual-mta>\n") == [
        "max-smtp-msg-rate value '5/week' does not match its grammar (UG5 3.3.12.2, 3.3.13.5)"
    ]
    assert _problems("<virtual-mta v1>\n") == ["<virtual-mta> is never closed"]
    assert _problems("</domain>\n") == ["</domain> closes nothing open"]
    assert _problems("<virtual-mta-pool p>\n    virtual-mta ghost\n</virtual-mta-pool>\n") == [
        "pool p names no VirtualMTA ghost"
    ]
    assert _problems("<virtual-mta v1>\n</virtual-mta>\n<virtual-mta-pool v1>\n</virtual-mta-pool>\n") == [
        "v1 is defined twice (first at x.conf:1; UG5 3.3.13)"
    ]
    grouped = "\n".join(
        [
            "<virtual-mta v1>",
            "    <domain gmail.com>",
            "        queue-to gmail.queue",
            "    </domain>",
            "</virtual-mta>",
        ]
    )
    assert _problems(grouped) == ["queue gmail.queue has no <domain> with smtp-hosts (UG5 10.9)"]
    routed = grouped.replace(
        "</virtual-mta>",
        "    <domain gmail.queue>\n        smtp-hosts lookup-mx:gmail.com\n    </domain>\n</virtual-mta>",
    )
    assert _problems(routed) == []
