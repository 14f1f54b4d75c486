"""A day's PMTA accounting goes in, the ramp runs, and the IP's new limits come out in the PMTA config."""

from datetime import timedelta

import pytest

from campaigns.accounting.importer import accounting_import_path
from ips.pmta_config import render_server_config
from warmup.services import warmup_assign, warmup_run_ramp
from warmup.tests.conftest import TODAY, make_ip

pytestmark = pytest.mark.django_db
HEADER = "type,timeLogged,timeQueued,orig,rcpt,dsnAction,dsnStatus,dsnDiag,bounceCat,dlvSourceIp,vmta,jobId\n"


def write_day(path, address, vmta, delivered, bounced):
    day = (TODAY - timedelta(days=1)).isoformat()
    lines = [HEADER]
    for i in range(delivered):
        lines.append(
            f"d,{day} 10:{i % 60:02d}:00+0000,{day} 09:59:00+0000,news@s.example,user{i}@gmail.com,relayed,"
            f"2.0.0 (success),smtp;250 ok,,{address},{vmta},camp-1\n"
        )
    for i in range(bounced):
        lines.append(
            f"b,{day} 11:{i % 60:02d}:00+0000,{day} 10:59:00+0000,news@s.example,gone{i}@yahoo.com,failed,"
            f"5.1.1 (bad destination mailbox address),\"smtp;554 delivery error: dd This user doesn't have a "
            f'yahoo.com account",bad-mailbox,{address},{vmta},camp-1\n'
        )
    path.write_text("".join(lines))
    return path


def test_it_turns_a_days_accounting_into_new_pmta_limits(tmp_path, pool_a, plan, operator):
    ip = make_ip("203.0.113.120", pool_a)
    warmup_assign(ip=ip, plan=plan, by=operator, start_on=TODAY - timedelta(days=1))
    ip.refresh_from_db()
    before = render_server_config(ip.server)["emailengine-vmtas.conf"]
    # 1000/day and 100/h as one VirtualMTA-wide rate (UG5 3.3.12.2).
    assert "max-smtp-msg-rate 83/2h" in before

    result = accounting_import_path(path=write_day(tmp_path / "acct.csv", ip.address, ip.vmta_name, 940, 10))
    assert (result.imported, result.rejected) == (950, 0)

    [outcome] = warmup_run_ramp(day=TODAY)
    assert (outcome.action, outcome.numbers["attempted"], outcome.numbers["hard_bounces"]) == (
        "advance",
        950,
        10,
    )
    ip.refresh_from_db()
    after = render_server_config(ip.server)["emailengine-vmtas.conf"]
    assert "daily 2000 and hourly 200 as one rate" in after
    assert "max-smtp-msg-rate 83/h" in after


def test_a_bad_day_in_accounting_pauses_the_ip_and_pmta_stops_routing_to_it(tmp_path, pool_a, plan, operator):
    ip = make_ip("203.0.113.121", pool_a)
    warmup_assign(ip=ip, plan=plan, by=operator, start_on=TODAY - timedelta(days=1))
    accounting_import_path(path=write_day(tmp_path / "acct.csv", ip.address, "vmta-x", 900, 60))
    [outcome] = warmup_run_ramp(day=TODAY)
    assert outcome.action == "pause"
    ip.refresh_from_db()
    config = render_server_config(ip.server)["emailengine-vmtas.conf"]
    # Held, not removed: PMTA keeps its mail queued (UG5 3.3.7.31) and attempts nothing (UG5 3.3.12.2).
    block = config[config.index(f"<virtual-mta {ip.vmta_name}>") :]
    block = block[: block.index("</virtual-mta>")]
    assert "    max-smtp-msg-rate 0\n" in block
