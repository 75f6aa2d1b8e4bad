"""Database sessions with fewer round trips on the home flow.

Django's database store is kept, with three changes that matter on every login, every switch
to a child and every launch (each of them gives the session a new key):

- a new key is written once, when the response saves the session, instead of once empty at
  once and once more with the data;
- a new key is not looked up first: 165 random bits do not collide, and if one ever did, the
  INSERT fails on the primary key and ``create()`` draws again;
- an old session is removed with one DELETE, not read first and then deleted;
- reading and writing are single statements built once: the ORM's query building cost more
  Python time than the lookup costs PostgreSQL (about 0.25 ms against 0.05 ms per request).

The session still lives in the shared database: logging out or changing a password ends it
on every server at once.
"""

from __future__ import annotations

from contextlib import nullcontext

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    def _get_new_session_key(self):
        return get_random_string(32, VALID_KEY_CHARS)

    def _connection(self, write: bool = False):
        route = router.db_for_write if write else router.db_for_read
        return connections[route(self.model)]

    def _table(self, connection) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    def load(self):
        if self.session_key is None:
            return {}
        connection = self._connection()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {self._table(connection)} "  # noqa: S608
                "WHERE session_key = %s AND expire_date > %s",
                [self.session_key, now],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])

    def save(self, must_create=False):
        """One INSERT for a new key, one UPDATE for a known one.

        A key that is taken raises CreateError (inside a transaction a savepoint keeps that
        harmless); a session that ended meanwhile raises UpdateError, which the middleware
        answers as Django does. Any other database error is not turned into UpdateError (a
        "session interrupted" 400): it is the outage page's (basispoort/middleware.py).
        """
        if self.session_key is None:
            return self.create()
        data = self.encode(self._get_session(no_load=must_create))
        connection = self._connection(write=True)
        expires = connection.ops.adapt_datetimefield_value(self.get_expiry_date())
        table = self._table(connection)
        if must_create:
            guard = (
                transaction.atomic(using=connection.alias) if connection.in_atomic_block else None
            )
            try:
                with guard or nullcontext(), connection.cursor() as cursor:
                    cursor.execute(
                        f"INSERT INTO {table} (session_key, session_data, expire_date) "  # noqa: S608
                        "VALUES (%s, %s, %s)",
                        [self.session_key, data, expires],
                    )
            except IntegrityError:
                raise CreateError from None
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET session_data = %s, expire_date = %s "  # noqa: S608
                "WHERE session_key = %s",
                [data, expires, self.session_key],
            )
            if cursor.rowcount != 1:
                raise UpdateError  # ended meanwhile (logout elsewhere): not written again

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
        connection = self._connection(write=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {self._table(connection)} WHERE session_key = %s",  # noqa: S608
                [session_key],
            )
