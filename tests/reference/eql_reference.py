#!/usr/bin/env python3
"""Reference runner: a detection-rules EQL sequence rule, evaluated by the
Python ``eql`` package (1.0.1), over NDJSON events.

    eql_reference.py [--rule rule-core/rule.toml] [EVENTS.ndjson | -]

Writes one line per matched sequence to stdout, in the order eql reports them:
a JSON array of the matched events' ``event.id`` values, in sequence order
(after the adaptation below: an ``event.id`` of ``["x"]`` is written as ``"x"``).

Only meaningful on the "reference domain" (see shared/spec/SEMANTICS.md),
where Elasticsearch and eql 1.0.1 agree. To get there, each event is adapted
for eql, on this side only:

* only the fields the query reads (and ``event.id``) are handed to eql, as
  nested objects; the rest of the event (Defend events are 1-3 KB) is
  dropped, which changes nothing eql can see and saves most of the time;
* one-element arrays are unwrapped (``event.category: ["network"]`` becomes
  ``"network"``), recursively; longer or empty arrays stay as they are
  (eql never matches them: outside the reference domain);
* a field may be nested or spelled with dotted keys (``{"event.id": 1}``,
  ``{"process": {"Ext.x": 1}}``), as Elasticsearch reads them;
* the eql event type is ``event.category`` (``network where`` /
  ``file where``);
* the event time is ``@timestamp`` (RFC 3339, up to 9 fractional digits)
  truncated to epoch milliseconds; the engine runs with ``time_unit=1000``
  (ticks per second), so ``maxspan=5s`` is 5000 ms and inclusive.

Events are streamed in input order; eql does not sort them. eql 1.0.1 pairs
a file event with the pending network event whatever their times (a stage-2
event earlier than stage 1 still completes the sequence) and expires pending
sequences against the latest event's time, so input whose @timestamp goes
backwards is outside the reference domain: ``--strict`` rejects it.

How eql is driven:

    with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions:
        query = eql.parse_query(rule_query)
    engine = eql.PythonEngine({"time_unit": 1000,
                               "functions": {"cidrmatch": eql.functions.CidrMatch}})
    engine.add_query(query)
    engine.add_output_hook(on_result)          # gets AnalyticOutput(id, events)
    engine.stream_event(eql.Event(category, ms, doc))   # per event, in order
    engine.finalize()

``ignore_missing_functions`` is needed because eql only knows ``cidrMatch``
(camel case) and the rule calls ``cidrmatch``; binding the name to the
``CidrMatch`` class makes the engine call ``CidrMatch.get_callback`` with the
unvalidated literal arguments, so the CIDR list is compiled once (and the
bare ``"::1"``, which ``cidrMatch``'s parse-time validation rejects, becomes
``::1/128``).

The one change to eql's own code paths is speed: eql's maxspan check walks
every pending sequence on every event (quadratic on dense streams). It is
replaced by an equivalent heap of start times that drops exactly the same
sequences (start time < event time - maxspan) at exactly the same moments.
``--naive-maxspan`` keeps eql's own loop, to check that claim; ``rulehost
bench`` times the reference with it, as eql is.

``--time`` prints to stderr the time from reading the rule to the last
output line (the interpreter's start and imports excluded) and the peak RSS.
"""

import argparse
import heapq
import itertools
import json
import re
import resource
import sys
import time
from calendar import timegm

import eql
import eql.ast
import eql.engine
import eql.functions
import eql.parser

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

EQL_VERSION = "1.0.1"

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z"
)


class InputError(Exception):
    pass


def timestamp_ms(text):
    """RFC 3339 text to epoch milliseconds, fractional digits past 3 truncated."""
    m = _RFC3339.match(text) if isinstance(text, str) else None
    if m is None:
        raise InputError("@timestamp is not RFC 3339: {!r}".format(text))
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    frac = m.group(7) or ""
    millis = int((frac + "000")[:3])
    try:
        seconds = timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        raise InputError("@timestamp out of range: {!r}".format(text))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 60):
        raise InputError("@timestamp out of range: {!r}".format(text))
    if m.group(9):
        offset = int(m.group(10)) * 3600 + int(m.group(11)) * 60
        seconds += -offset if m.group(9) == "+" else offset
    return seconds * 1000 + millis


MISSING = object()


def unwrap(value):
    """One-element arrays become their element, recursively."""
    while type(value) is list:
        if len(value) == 1:
            value = value[0]
        else:
            return [unwrap(v) for v in value]
    if type(value) is dict:
        return {k: unwrap(v) for k, v in value.items()}
    return value


def get_path(obj, parts):
    """The value at ``parts`` (a tuple of names) in a decoded event, through
    nested objects or dotted keys, one-element arrays read as their element;
    MISSING when absent."""
    while type(obj) is list and len(obj) == 1:
        obj = obj[0]
    if not parts:
        return obj
    if type(obj) is not dict:
        return MISSING
    for i in range(1, len(parts) + 1):
        key = parts[0] if i == 1 else ".".join(parts[:i])
        if key in obj:
            found = get_path(obj[key], parts[i:])
            if found is not MISSING:
                return found
    return MISSING


def field_paths(query):
    """Every field path the query reads, as tuples of names."""
    paths = set()

    def walk(node):
        if isinstance(node, eql.ast.Field):
            paths.add((node.base,) + tuple(node.path))
        elif isinstance(node, eql.ast.BaseNode):
            for _, value in node.iter_slots():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(query)
    return paths


def projector(query):
    """A function from a decoded event to the nested, unwrapped document
    eql gets: the query's fields, ``event.id`` and ``event.category``."""
    paths = field_paths(query) | {("event", "id"), ("event", "category")}
    for path in paths:
        if not all(isinstance(p, str) for p in path):
            raise InputError("field {} indexes an array: not supported".format(path))
    paths = sorted(paths)

    def project(raw):
        doc = {}
        for path in paths:
            # Fast path: plain nested objects all the way.
            value = raw
            for part in path:
                if type(value) is dict:
                    value = value.get(part, MISSING)
                else:
                    value = MISSING
                    break
            if value is MISSING:
                value = get_path(raw, path)
                if value is MISSING:
                    continue
            node = doc
            for part in path[:-1]:
                child = node.get(part)
                if type(child) is not dict:
                    child = {}
                    node[part] = child
                node = child
            node[path[-1]] = unwrap(value)
        return doc

    return project


def field(doc, *path):
    for key in path:
        if type(doc) is not dict:
            return None
        doc = doc.get(key)
    return doc


class RefEvent(eql.Event):
    """eql's Event, carrying the event.id for the output."""


class ReferenceEngine(eql.PythonEngine):
    """eql's PythonEngine, with the maxspan check made O(log n) per expiry.

    eql's ``check_timeout`` (engine.py, ``_convert_sequence``) runs for every
    event of the sequence's event types, before the sequence terms, and pops
    every pending sequence whose first event's time is < event.time -
    max_span. This does the same from a heap of (first time, order, lookup,
    key, sequence); an entry whose sequence was since replaced or consumed
    is stale and skipped.
    """

    naive_maxspan = False

    def _convert_sequence(self, node, next_pipe):
        if self.naive_maxspan or node.max_span is None:
            return super(ReferenceEngine, self)._convert_sequence(node, next_pipe)

        size = len(node.queries)
        heap = []
        counter = itertools.count()

        class TrackedLookup(dict):
            __slots__ = ("index",)

            def __setitem__(self, key, sequence):
                dict.__setitem__(self, key, sequence)
                if sequence:
                    heapq.heappush(heap, (sequence[0].time, next(counter), self.index, key, sequence))

        lookups = []
        for i in range(size):
            d = TrackedLookup()
            d.index = i
            lookups.append(d)

        max_span = self.convert_time_range(node.max_span)
        event_types = set(q.query.event_type for q in node.queries)

        @self.event_callback(*event_types)
        def check_timeout(event):
            minimum_start = event.time - max_span
            while heap and heap[0][0] < minimum_start:
                _, _, index, key, sequence = heapq.heappop(heap)
                sub_lookup = lookups[index]
                # Still pending, and still the same list (eql appends to the
                # list in place when it moves a sequence to the next stage,
                # and the first event never changes).
                if sub_lookup.get(key) is sequence:
                    dict.pop(sub_lookup, key)

        if node.close:
            raise NotImplementedError("sequence ... until: not used by the rule")

        for pos, query in reversed(list(enumerate(node.queries))):
            self._convert_sequence_term(query, pos, size, lookups, next_pipe)


def load_query(rule_path):
    with open(rule_path, "rb") as f:
        rule = tomllib.load(f)
    try:
        section = rule["rule"]
        query = section["query"]
    except KeyError:
        raise InputError("{}: no [rule] query".format(rule_path))
    if section.get("language", "eql") != "eql":
        raise InputError("{}: rule language is {!r}, not eql".format(rule_path, section.get("language")))
    with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions:
        parsed = eql.parse_query(query)
    if not isinstance(parsed.first, eql.ast.Sequence):
        raise InputError("{}: the query is not a sequence".format(rule_path))
    return parsed


def event_type_of(doc, line_no):
    category = field(doc, "event", "category")
    if isinstance(category, str):
        return category
    raise InputError(
        "line {}: event.category {} is outside the reference domain "
        "(one category per event)".format(line_no, json.dumps(category))
    )


def run(rule_path, stream, out, naive_maxspan=False, strict=False):
    query = load_query(rule_path)
    engine = ReferenceEngine({
        "time_unit": 1000,  # event.time is epoch milliseconds
        "functions": {"cidrmatch": eql.functions.CidrMatch},
    })
    engine.naive_maxspan = naive_maxspan

    matches = [0]
    pending = []  # written in blocks: stdout may be unbuffered (PYTHONUNBUFFERED)

    def on_result(result):
        ids = [ev.event_id for ev in result.events]
        pending.append(json.dumps(ids, separators=(",", ":")))
        matches[0] += 1
        if len(pending) >= 4096:
            write_pending()

    def write_pending():
        if pending:
            out.write("\n".join(pending) + "\n")
            del pending[:]

    engine.add_query(query)
    engine.add_output_hook(on_result)

    Event = RefEvent
    loads = json.loads
    project = projector(query)
    stream_event = engine.stream_event
    count = 0
    latest_ms, latest_line = None, 0
    for line_no, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            raw = loads(line)
        except ValueError as e:
            raise InputError("line {}: not JSON: {}".format(line_no, e))
        if type(raw) is not dict:
            raise InputError("line {}: not a JSON object".format(line_no))
        ts = get_path(raw, ("@timestamp",))
        if ts is MISSING or ts is None:
            raise InputError("line {}: no @timestamp".format(line_no))
        try:
            ms = timestamp_ms(ts)
        except InputError as e:
            raise InputError("line {}: {}".format(line_no, e))
        if latest_ms is not None and ms < latest_ms:
            if strict:
                raise InputError(
                    "line {}: @timestamp {} is earlier than line {}'s; eql pairs events in "
                    "arrival order and expires pending sequences by the latest time seen, "
                    "so out-of-order input is outside the reference domain".format(
                        line_no, ts, latest_line))
        else:
            latest_ms, latest_line = ms, line_no
        doc = project(raw)
        event = Event(event_type_of(doc, line_no), ms, doc)
        event.event_id = field(doc, "event", "id")
        stream_event(event)
        count += 1
    engine.finalize()
    write_pending()
    return count, matches[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rule", default=None,
                        help="detection-rules TOML (default: rule-core/rule.toml in the workspace)")
    parser.add_argument("--naive-maxspan", action="store_true",
                        help="use eql's own (quadratic) maxspan expiry loop")
    parser.add_argument("--strict", action="store_true",
                        help="fail on input outside the reference domain that eql would take "
                             "silently (timestamps going backwards)")
    parser.add_argument("--stats", action="store_true", help="print counts to stderr")
    parser.add_argument("--time", action="store_true",
                        help="print the processing time (rule parse, reading, matching, output; "
                             "not the interpreter's start or imports) and the peak RSS to stderr")
    parser.add_argument("events", nargs="?", default="-", help="NDJSON file, or - for stdin")
    args = parser.parse_args(argv)

    if eql.__version__ != EQL_VERSION:
        print("eql_reference: eql {} installed, {} required".format(eql.__version__, EQL_VERSION),
              file=sys.stderr)
        return 2

    rule_path = args.rule
    if rule_path is None:
        import os
        here = os.path.dirname(os.path.abspath(__file__))
        rule_path = os.path.join(here, "..", "..", "rule-core", "rule.toml")

    out = sys.stdout
    started = time.perf_counter()
    try:
        if args.events == "-":
            stream = sys.stdin
            count, matches = run(rule_path, stream, out, args.naive_maxspan, args.strict)
        else:
            with open(args.events, "r", encoding="utf-8") as stream:
                count, matches = run(rule_path, stream, out, args.naive_maxspan, args.strict)
    except InputError as e:
        print("eql_reference: {}".format(e), file=sys.stderr)
        return 3
    out.flush()
    if args.time:
        elapsed = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("eql_reference: processed {} events in {:.6f} s, peak RSS {} KiB".format(
            count, elapsed, peak_kib), file=sys.stderr)
    if args.stats:
        print("eql_reference: {} events, {} sequences".format(count, matches), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
