"""The hot pages' queries, compiled to SQL once per process instead of once per request.

Every request of a logged-in parent reads its user row, the tile page the parent's children,
a child's requests their pupil and licences. With the ORM each of these costs about 0.2 to
0.4 ms of Python per request (building the query, compiling it to SQL, turning rows into
objects) for 0.05 ms of actual database work. Here the ORM still writes the SQL, once per
query and database; a request only binds its value and runs it. Rows still pass through
Django's converters for each column, so values come back as the ORM would return them, on
PostgreSQL and on SQLite.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.models import QuerySet


def _integer_range(field, connection) -> tuple[int, int]:
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    return (-(2**63) if low is None else low), (2**63 - 1 if high is None else high)


def _stand_in(field, index: int, connection, variant: int = 0):
    """A value of the field's type that no real row has: it marks the parameter's place.
    The second ``variant`` differs from the first in every part (a date's year, month, day
    and weekday), so that a value used through a transform shows as well."""
    if isinstance(field, models.UUIDField):
        return uuid.UUID(int=0x7302_1458_9623_1000 + 0x100 * variant + index)
    if isinstance(field, models.IntegerField):  # and the auto fields
        low, high = _integer_range(field, connection)
        # In range, and no constant anyone writes.
        return low + (high - low) // 3 + (high - low) // 5 * variant + 7 + index
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        return (date(1906, 9, 28) if variant else date(1873, 2, 3)) + timedelta(days=index)
    raise TypeError(f"{field!r}: only integer, UUID and date parameters can be prepared")


def _bind(field, value, connection):
    """The value as the database takes it; ValueError (or ValidationError, TypeError) for a
    value the column cannot hold, which matches no row (as the ORM answers)."""
    value = field.to_python(value)
    if isinstance(field, models.IntegerField) and value is not None:
        low, high = _integer_range(field, connection)
        if not low <= value <= high:
            raise ValueError("out of the column's range")
    return field.get_db_prep_value(value, connection)


def _converters(connection, columns) -> list[tuple[int, Any, list]]:
    found = []
    for index, column in enumerate(columns):
        convs = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if convs:
            found.append((index, column, convs))
    return found


_CONVERTERS: dict[tuple, list] = {}


def _converters_here(key, connection, columns) -> list[tuple[int, Any, list]]:
    """The converters for these columns, bound to this thread's connection (each thread has
    its own), worked out once per thread."""
    full = (key, connection.alias, threading.get_ident())
    found = _CONVERTERS.get(full)
    if found is None:
        found = _CONVERTERS[full] = _converters(connection, columns)
    return found


def _convert(row, converters, connection) -> list:
    row = list(row)
    for index, column, convs in converters:
        for converter in convs:
            row[index] = converter(row[index], column, connection)
    return row


@dataclass
class Prepared:
    """A query compiled to SQL once per database, run with new values for its parameters.

    ``build(*values)`` returns the query for some values (a user's id, a pupil's code); it
    is called once, with stand-in values, and the SQL it compiles to is kept. ``parameters``
    are the fields those values are compared with (integer, UUID or date fields), in order;
    a value may appear in the query more than once.

    ``rows(*values)`` gives the rows of a ``values_list`` query. ``objects(*values)`` gives
    model instances of a plain query, with the foreign keys named in ``related`` loaded in
    the same statement (as ``select_related`` would) and each name in ``extra`` set as an
    attribute (as ``annotate`` would).
    """

    build: Callable[..., QuerySet]
    parameters: tuple[models.Field, ...]
    related: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()  # (attribute, path) pairs
    _compiled: dict[str, tuple] = field(default_factory=dict, init=False, repr=False)
    _model: type[models.Model] | None = field(default=None, init=False, repr=False)
    _parts: list[tuple] | None = field(default=None, init=False, repr=False)

    def _query(self, values) -> QuerySet:
        queryset = self.build(*values)
        if not queryset._fields:  # a plain query, for objects()
            queryset = queryset.values_list(*self._layout(queryset.model)[0])
        return queryset

    def _layout(self, model) -> tuple[list[str], list[tuple]]:
        """The columns of an ``objects()`` query, and where each model's part of a row lies."""
        names, parts = [], []
        for path in ("", *self.related):
            target = model if not path else model._meta.get_field(path).related_model
            attnames = [f.attname for f in target._meta.concrete_fields]
            prefix = f"{path}__" if path else ""
            parts.append((path, target, len(names), attnames))
            names += [prefix + name for name in attnames]
        names += [path for _attribute, path in self.extra]
        return names, parts

    def _compile(self, alias: str) -> tuple:
        connection = connections[alias]
        compiled = []
        for variant in (0, 1):
            stand_ins = [
                _stand_in(f, i, connection, variant) for i, f in enumerate(self.parameters)
            ]
            compiler = self._query(stand_ins).query.get_compiler(alias)
            compiled.append((stand_ins, compiler, *compiler.as_sql()))
        (stand_ins, compiler, sql, params), (_other, _, other_sql, other_params) = compiled
        slots = []
        for f, stand_in in zip(self.parameters, stand_ins, strict=True):
            marked = f.get_db_prep_value(stand_in, connection)
            found = [index for index, value in enumerate(params) if value == marked]
            if not found:
                raise ValueError(f"the query does not use its parameter for {f!r}")
            slots.append(found)
        # Every place where the values show must be bound: a value that went through a
        # transform (a date's year, say) would otherwise keep the stand-in for good.
        if sql != other_sql or len(params) != len(other_params):
            raise ValueError("the query's SQL depends on its values: it cannot be prepared")
        pairs = zip(params, other_params, strict=True)
        changed = {index for index, (one, other) in enumerate(pairs) if one != other}
        if changed != {place for places in slots for place in places}:
            raise ValueError("a parameter is used in a form that cannot be bound again")
        columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
        return sql, list(params), slots, columns

    def rows(self, *values, using: str | None = None) -> list[list]:
        if len(values) != len(self.parameters):
            raise TypeError(f"{len(self.parameters)} values needed, {len(values)} given")
        if self._model is None:
            default = connections[DEFAULT_DB_ALIAS]
            self._model = self.build(
                *[_stand_in(f, i, default) for i, f in enumerate(self.parameters)]
            ).model
        alias = using or router.db_for_read(self._model)
        if alias not in self._compiled:
            self._compiled[alias] = self._compile(alias)
        sql, params, slots, columns = self._compiled[alias]
        connection = connections[alias]
        converters = _converters_here(id(self), connection, columns)
        params = params.copy()
        try:
            for places, f, value in zip(slots, self.parameters, values, strict=True):
                bound = _bind(f, value, connection)
                for place in places:
                    params[place] = bound
        except (ValidationError, TypeError, ValueError):  # a value the column cannot hold
            return []
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return [_convert(row, converters, connection) for row in fetched]

    def objects(self, *values, using: str | None = None) -> list[models.Model]:
        rows = self.rows(*values, using=using)
        if not rows:
            return []
        alias = using or router.db_for_read(self._model)
        if self._parts is None:
            self._parts = self._layout(self._model)[1]
        found = []
        for row in rows:
            instances = {}
            for path, target, start, attnames in self._parts:
                values_of = row[start : start + len(attnames)]
                if values_of[attnames.index(target._meta.pk.attname)] is None:
                    instances[path] = None  # an empty nullable foreign key
                else:
                    instances[path] = target.from_db(alias, attnames, values_of)
            main = instances.pop("")
            for path, instance in instances.items():
                self._model._meta.get_field(path).set_cached_value(main, instance)
            for offset, (attribute, _path) in enumerate(self.extra, len(row) - len(self.extra)):
                setattr(main, attribute, row[offset])
            found.append(main)
        return found


@cache
def _by_column(model: type[models.Model], column: str, alias: str):
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    where = model._meta.pk if column == "pk" else model._meta.get_field(column)
    sql = "SELECT {} FROM {} WHERE {} = %s".format(  # noqa: S608 (names from the model)
        ", ".join(quote(f.column) for f in fields),
        quote(model._meta.db_table),
        quote(where.column),
    )
    columns = [f.get_col(model._meta.db_table) for f in fields]
    return sql, [f.attname for f in fields], where, columns


def fetch(model: type[models.Model], column: str, value, using: str | None = None):
    """``model.objects.filter(**{column: value}).first()`` for a unique column, or None."""
    alias = using or router.db_for_read(model)
    sql, attnames, where, columns = _by_column(model, column, alias)
    connection = connections[alias]
    converters = _converters_here((model, column), connection, columns)
    try:
        bound = _bind(where, value, connection)
    except (ValidationError, TypeError, ValueError):  # a value the column cannot hold
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql, [bound])
        row = cursor.fetchone()
    if row is None:
        return None
    return model.from_db(alias, attnames, _convert(row, converters, connection))
