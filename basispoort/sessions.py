"""Database sessions with fewer round trips on the home flow.

Django's database store is kept, with three changes that matter on every login, every switch
to a child and every launch (each of them gives the session a new key):

- a new key is written once, when the response saves the session, instead of once empty at
  once and once more with the data;
- a new key is not looked up first: 165 random bits do not collide, and if one ever did, the
  INSERT fails on the primary key and ``create()`` draws again;
- an old session is removed with one DELETE, not read first and then deleted.

The session still lives in the shared database: logging out or changing a password ends it
on every server at once.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.db import connections, router
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    def _get_new_session_key(self):
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self):
        """A new key for the same data, created when the session is saved."""
        data = self._session
        key = self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if key:
            self.delete(key)

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        using = router.db_for_write(self.model)
        connection = connections[using]
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE session_key = %s", [session_key])  # noqa: S608
