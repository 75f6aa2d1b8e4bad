"""The teachers' admin for schools, groups, staff and pupils, scoped by membership."""

from schools.admin import pupils, school  # noqa: F401  (registers the model admins)
