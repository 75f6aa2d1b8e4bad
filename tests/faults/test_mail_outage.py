"""The outbox against a mail server that is away, and a mail worker that is killed.

The portal never talks to the mail server itself: pages queue messages in the database
(django-post-office) and ``manage.py mail_worker`` delivers them. These tests run the real
worker as a process against a small SMTP server on loopback (tests/faults/smtp.py) and
count what arrives.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from post_office.models import STATUS

from bench.seed import family_email
from bench.server import free_port
from tests.faults.client import Browser
from tests.faults.processes import run_django
from tests.faults.smtp import MailServer

pytestmark = pytest.mark.faults

# As a teacher does in the admin (schools/admin/pupils.py): a second parent address for a
# pupil, and an invitation queued for it in the same transaction.
INVITE = """
from django.db import transaction
from accounts.invitations import tell_waiting_parents
from accounts.parents import set_parent_emails
from schools.models import Pupil

for index in {indexes!r}:
    pupil = Pupil.objects.get(external_key=f"BENCH{{index:04d}}E")
    addresses = [f"bench{{index:04d}}@example.com", f"tweede-{{index}}@example.org"]
    with transaction.atomic():
        new = set_parent_emails(pupil, addresses)
        tell_waiting_parents([pupil], only=new)
"""


def invite(env, indexes) -> list[str]:
    run_django(env, INVITE.format(indexes=list(indexes)))
    return [f"tweede-{index}@example.org" for index in indexes]


def outbox(postgres, database) -> list[dict]:
    with postgres.connect(database.rsplit("/", 1)[1]) as connection:
        cursor = connection.execute(
            'SELECT id, "to", status, number_of_retries, message_id, scheduled_time '
            "FROM post_office_email ORDER BY id"
        )
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


def unhandled_password_requests(postgres, database) -> int:
    with postgres.connect(database.rsplit("/", 1)[1]) as connection:
        return connection.execute(
            "SELECT count(*) FROM accounts_passwordrequest WHERE handled_at IS NULL"
        ).fetchone()[0]


def wait_until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds:.0f} s: {what}")


def test_mail_queued_while_the_mail_server_is_away_is_delivered_once_when_it_is_back(
    postgres, database, processes, figures
):
    smtp_port = free_port()  # nothing listens here until the mail server starts
    env = processes.env(database, EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}")
    portal = processes.portal(env)

    # "Wachtwoord vergeten" for five parents and three addresses the portal does not know.
    known = [family_email(index) for index in range(5)]
    unknown = [f"onbekend-{index}@example.org" for index in range(3)]
    for address in known + unknown:
        browser = Browser(portal.port)
        browser.get("/wachtwoord-vergeten/")
        answer = browser.post("/wachtwoord-vergeten/", {"email": address})
        assert answer.status == 200 and "Kijk in uw e-mail" in answer.text
    invited = invite(env, range(10, 14))
    expected = sorted(known + invited)

    worker = processes.mail_worker(env)
    down_since = time.monotonic()

    def all_tried_and_waiting():
        rows = outbox(postgres, database)
        return (
            unhandled_password_requests(postgres, database) == 0
            and len(rows) == len(expected)
            and all(row["status"] == STATUS.requeued and row["number_of_retries"] for row in rows)
            and rows
        )

    rows = wait_until(all_tried_and_waiting, 30, "every message tried once and queued again")
    time.sleep(2)  # a few more rounds of the worker while the server stays away
    rows = outbox(postgres, database)
    attempts_while_down = sum(row["number_of_retries"] for row in rows)
    assert sorted(row["to"].strip("[]'\"") for row in rows) == expected
    assert all(row["status"] == STATUS.requeued for row in rows), rows
    # The growing pause of accounts/outbox.py: the next try is about a minute away.
    assert attempts_while_down == len(rows), "tried again before the pause was over"

    with MailServer(smtp_port) as smtp:
        up_since = time.monotonic()
        # The first retry is a minute after the failure; move the clock on instead of waiting.
        with postgres.connect(database.rsplit("/", 1)[1]) as connection:
            connection.execute(
                "UPDATE post_office_email SET scheduled_time = now() - interval '1 second' "
                "WHERE status = %s",
                [STATUS.requeued],
            )
        wait_until(
            lambda: all(row["status"] == STATUS.sent for row in outbox(postgres, database)),
            20,
            "every message sent",
        )
        delivered_after = time.monotonic() - up_since
        time.sleep(2)  # a few more rounds: nothing may be sent a second time
        received = smtp.snapshot()

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0, "the mail worker did not stop cleanly on SIGTERM"

    rows = outbox(postgres, database)
    ids = [message.message_id for message in received]
    figures(
        mail_server_away_s=round(up_since - down_since, 1),
        messages_queued=len(rows),
        attempts_while_away=attempts_while_down,
        delivered=len(received),
        distinct_delivered=len(set(ids)),
        lost=len({row["message_id"] for row in rows} - set(ids)),
        seconds_to_deliver_all=round(delivered_after, 1),
    )
    assert sorted(address for m in received for address in m.recipients) == expected
    assert len(ids) == len(set(ids)) == len(rows), "a message arrived twice, or not at all"
    assert set(ids) == {row["message_id"] for row in rows}
    resets = [m for m in received if m.recipients[0] in known]
    assert all("/wachtwoord/" in m.raw.decode() for m in resets), "a reset message has no link"
    assert not any(m.recipients[0] in unknown for m in received)


def test_a_message_being_sent_when_the_worker_is_killed_is_sent_after_a_restart(
    postgres, database, processes, figures
):
    smtp_port = free_port()
    env = processes.env(database, EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}")
    invited = invite(env, range(3))

    with MailServer(smtp_port, stall_first=True) as smtp:
        worker = processes.mail_worker(env)
        # The server reads the first message and never answers: the worker waits for it.
        assert smtp.stalled.wait(20), "the worker did not start sending"
        time.sleep(0.5)  # time enough for anything else to go out (nothing should)
        acknowledged_before_kill = len(smtp.snapshot())
        os.killpg(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL
        killed_at = time.monotonic()

        rows = outbox(postgres, database)
        stalled_id = smtp.unanswered[0].message_id
        # Nothing is marked sent or failed: the round never finished.
        assert [row["status"] for row in rows] == [STATUS.queued] * len(invited), rows

        processes.mail_worker(env, name="mail_worker_again")
        wait_until(
            lambda: all(row["status"] == STATUS.sent for row in outbox(postgres, database)),
            20,
            "every message sent after the restart",
        )
        delivered_after = time.monotonic() - killed_at
        time.sleep(1.5)  # a few more rounds: nothing may be sent again
        received = smtp.snapshot()

    rows = outbox(postgres, database)
    ids = [message.message_id for message in received]
    expected_ids = {row["message_id"] for row in rows}
    duplicates = len(ids) - len(set(ids))
    figures(
        messages_queued=len(rows),
        acknowledged_before_kill=acknowledged_before_kill,
        unanswered_when_killed=len(smtp.unanswered),
        delivered=len(received),
        lost=len(expected_ids - set(ids)),
        duplicates=duplicates,
        seconds_from_kill_to_all_sent=round(delivered_after, 1),
    )
    assert set(ids) == expected_ids, "a message was lost"
    assert ids.count(stalled_id) == 1, "the message being sent when killed is not there once"
    # One message per batch (accounts/outbox.py): the worker was busy with the stalled one
    # only, so nothing the mail server had accepted is sent again.
    assert acknowledged_before_kill == 0
    assert duplicates == 0
