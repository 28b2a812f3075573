"""Homeward: an offline-first web app for reintegration partners."""

from starlette.convertors import IntegerConvertor, register_url_convertor


class BoundedIntegerConvertor(IntegerConvertor):
    """``{id:int}`` in a route matches at most nine digits.

    Every integer id fits a database INTEGER (2**31 - 1); a longer number is
    no record of ours and would overflow inside PostgreSQL (a 500) before
    the lookup could answer 404. Registered here, in the package's first
    module, so that it is in place before any route table is built.
    """

    regex = "[0-9]{1,9}"


register_url_convertor("int", BoundedIntegerConvertor())
