"""mongomock's cursor, made to hand out documents in linear time, for the benchmarks only.

mongomock's `Cursor.__next__` copies the rest of the result list (`results[skip:]`) for every
document it returns, so reading n documents costs O(n²): at 100,000 case files that copying, not
the code being measured, takes most of the time. MongoDB streams a cursor in batches. `install()`
replaces that one method with one that indexes the result list instead. It keeps the same skip and
limit and the same documents in the same order, so the benchmarks measure the exports' own growth.
"""
from __future__ import annotations


def install() -> None:
    from mongomock.collection import Cursor

    def next_document(self):
        if self._limit and self._emitted >= abs(self._limit):
            raise StopIteration()
        results = self._compute_results()  # the whole result list, computed once per query, not copied
        index = (self._skip or 0) + self._emitted
        if index >= len(results):
            raise StopIteration()
        self._emitted += 1
        return results[index]

    Cursor.__next__ = next_document
    Cursor.next = next_document
