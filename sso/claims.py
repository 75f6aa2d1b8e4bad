"""What a publisher learns about a pupil: little, and never the same `sub` as another publisher.

| scope   | claims                                                        |
| openid  | sub (random, per publisher, stable)                           |
| profile | given_name                                                    |
| school  | group_name, year_level, school_brin, role ("pupil@<BRIN>")    |
| eckid   | eck_id, only for clients allowed it and pupils who have one   |

Never: last name, birth date, parents' addresses, anything about the PIN or pictures.
"""

from __future__ import annotations

from schools.models import Pupil

SCOPES_SUPPORTED = ["openid", "profile", "school", "eckid"]
CLAIMS_SUPPORTED = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "given_name",
    "group_name",
    "year_level",
    "school_brin",
    "role",
    "eck_id",
]


def for_pupil(pupil: Pupil, client, scope: str) -> dict:
    from sso.models import Pseudonym

    granted = set(client.get_allowed_scope(scope).split())
    result = {"sub": Pseudonym.of(pupil, client.publisher)}
    if "profile" in granted:
        result["given_name"] = pupil.first_name
    if "school" in granted:
        result["group_name"] = pupil.group.name
        result["year_level"] = pupil.effective_year_level
        result["school_brin"] = pupil.school.brin
        result["role"] = f"pupil@{pupil.school.brin}"
    if "eckid" in granted and pupil.eck_id:
        result["eck_id"] = pupil.eck_id
    return result
