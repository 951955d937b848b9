"""Reading the time zone a person names for their reminders (`/schedule`): IANA names in any
case, cities, countries with one clock, whole-hour offsets, and the closest names otherwise.
Country tables come from tzdata (iso3166.tab and zone.tab)."""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TimeZone:
    """A zone read from what a person typed: its IANA name, how to say it, and a warning."""

    name: str
    label: str
    caveat: str = ""


_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


# Abbreviations people use for a zone that keeps daylight saving: the zone, not a fixed offset
# (PST in July is PDT). Only those that name one zone; the ambiguous ones are asked about.
_ABBREVIATIONS = {
    "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles", "PT": "America/Los_Angeles",
    "EST": "America/New_York", "EDT": "America/New_York", "ET": "America/New_York",
    "MDT": "America/Denver", "CDT": "America/Chicago", "AKST": "America/Anchorage",
    "HST": "Pacific/Honolulu", "BST": "Europe/London", "CEST": "Europe/Paris",
    "EEST": "Europe/Athens", "AEST": "Australia/Sydney", "AEDT": "Australia/Sydney",
    "JST": "Asia/Tokyo", "KST": "Asia/Seoul", "SGT": "Asia/Singapore", "NZST": "Pacific/Auckland",
}  # fmt: skip
_AMBIGUOUS = {
    "CST": "US Central, China or Cuba", "IST": "India, Ireland or Israel",
    "MST": "US Mountain with or without daylight saving", "AST": "Atlantic or Arabia",
}  # fmt: skip


_FRAMING = re.compile(
    r"^(?:i'?m|i am|we'?re|we are|i live|i'?m based|based|living|located)?\s*(?:in|at|near)\s+"
    r"|\s+(?:time|time zone|timezone|please|city|area)$",
    re.IGNORECASE,
)


def read_time_zone(text: str) -> TimeZone | str:
    """The time zone a person named: an IANA name in any case ("europe/berlin"), a city of
    one ("berlin", "new york"), UTC, or a whole-hour offset from UTC ("UTC+2"), also in a
    sentence ("I'm in Berlin", "Berlin, Germany", "London time"). A string is what to tell
    them instead (with the closest names when there are some)."""
    first = _read(text)
    if isinstance(first, TimeZone):
        return first
    plain = " ".join(text.split())
    while (shorter := _FRAMING.sub("", plain).strip(" .!")) != plain:
        plain = shorter
    for candidate in (plain, plain.split(",")[0]):
        if candidate and candidate != text.strip():
            found = _read(candidate)
            if isinstance(found, TimeZone):
                return found
    return first


def _read(text: str) -> TimeZone | str:
    name = " ".join(text.split())
    if name.upper() in ("UTC", "GMT", "Z"):
        return TimeZone("UTC", "UTC")
    offset = _OFFSET.match(name)
    if offset:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        if minutes or hours > 14:
            return (
                f"I can keep whole-hour offsets only ({name[:20]!r} is not one); name your city "
                "instead, for example Asia/Kolkata or Kolkata."
            )
        if hours == 0:
            return TimeZone("UTC", "UTC")
        # POSIX names count the other way: UTC+2 is Etc/GMT-2.
        return _fixed(f"Etc/GMT{'-' if sign == '+' else '+'}{hours}")
    abbreviation = _ABBREVIATIONS.get(name.upper())
    if abbreviation is not None:
        return TimeZone(abbreviation, abbreviation)
    if name.upper() in _AMBIGUOUS:
        return (
            f"{name.upper()} names more than one time zone ({_AMBIGUOUS[name.upper()]}); type "
            "your city or zone, for example /schedule Chicago or /schedule Asia/Kolkata."
        )
    names, cities = _zone_names()
    key = name.lower().replace(" ", "_")
    found = names.get(key) or (cities[key][0] if len(cities.get(key, ())) == 1 else None)
    if found is not None:
        return _fixed(found) if zone_label(found) != found else TimeZone(found, found)
    if key in cities:  # a city in several regions' lists
        return f"{name[:60]!r} could be {', '.join(cities[key][:4])}; type the one you mean."
    country = _countries().get(name.lower().removeprefix("the "))
    if country is not None:
        title, zones = country
        clocks = _one_per_clock(zones)  # Busingen keeps Berlin's time: Germany has one clock
        if len(clocks) == 1:
            return TimeZone(clocks[0], clocks[0])
        more = ", ..." if len(clocks) > 6 else ""
        city = clocks[1].rsplit("/", 1)[1].replace("_", " ")
        return (
            f"{title} has {len(clocks)} time zones ({', '.join(clocks[:6])}{more}); type "
            f"yours or your city, for example /schedule {city}."
        )
    close = difflib.get_close_matches(key, [*names, *cities], n=3, cutoff=0.75)
    suggestions = sorted({names.get(c) or cities[c][0] for c in close})
    hint = f" Did you mean {' or '.join(suggestions)}?" if suggestions else ""
    return (
        f"I do not know the time zone {name[:60]!r}.{hint} Use a name such as Europe/Berlin, "
        "America/New_York, Asia/Kolkata or UTC (a city alone, such as Berlin, works too)."
    )


def _fixed(name: str) -> TimeZone:
    return TimeZone(
        name, zone_label(name),
        " A fixed offset does not follow daylight saving time; name your city (for example "
        "Europe/Berlin) if yours does.",
    )  # fmt: skip


def zone_label(name: str) -> str:
    """How a stored zone is said: UTC+2 for Etc/GMT-2, the IANA name otherwise."""
    if name.startswith("Etc/GMT") and name[7:8] in "+-" and name[8:].isdigit():
        return f"UTC{'-' if name[7] == '+' else '+'}{name[8:]}"
    return name


@functools.cache
def _zone_names() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Zone names by lower-case name, and by lower-case last part (the city)."""
    from zoneinfo import available_timezones

    names: dict[str, str] = {}
    cities: dict[str, list[str]] = {}
    for zone in sorted(available_timezones()):
        if zone.startswith(("posix/", "right/")) or zone in ("localtime", "Factory"):
            continue
        names[zone.lower()] = zone
        if "/" in zone and not zone.startswith("Etc/"):
            cities.setdefault(zone.rsplit("/", 1)[1].lower(), []).append(zone)
    # A city listed under two regions (an old alias and its current name) is one place if
    # both give the same clock today; keep the one with the longer, current name.
    for city, zones in cities.items():
        if len(zones) > 1 and len(_one_per_clock(zones)) == 1:
            cities[city] = [max(zones, key=len)]
    return names, cities


@functools.cache
def _countries() -> dict[str, tuple[str, list[str]]]:
    """Country names (lower case; "uk" for "Britain (UK)") to the name and the zones of
    each, from the time zone database's own tables (tzdata's iso3166.tab and zone.tab)."""
    tables = _zone_tables()
    if tables is None:
        return {}
    iso, zones = tables
    by_code: dict[str, list[str]] = {}
    for line in zones.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            by_code.setdefault(fields[0], []).append(fields[2])
    found: dict[str, tuple[str, list[str]]] = {}
    for line in iso.splitlines():
        code, _, title = line.partition("\t")
        if line.startswith("#") or code not in by_code:
            continue
        entry = (title, by_code[code])
        plain, _, inner = title.partition(" (")
        for alias in (title, plain, inner.rstrip(")")):
            if alias:
                found.setdefault(alias.lower(), entry)
    if "us" in {code.lower() for code in by_code}:
        found.setdefault("usa", found.get("united states", ("United States", by_code["US"])))
    return found


def _zone_tables() -> tuple[str, str] | None:
    """The text of tzdata's iso3166.tab and zone.tab (None if they cannot be read)."""
    from importlib.resources import files

    folder = files("tzdata.zoneinfo")
    try:
        return (folder / "iso3166.tab").read_text("utf-8"), (folder / "zone.tab").read_text("utf-8")
    except OSError:
        return None


def _one_per_clock(zones: list[str]) -> list[str]:
    """The first zone of each different clock (its offsets in January and July), in order."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    moments = [dt.datetime(2026, month, 1, 12, tzinfo=dt.UTC) for month in (1, 7)]
    first: dict[tuple[object, ...], str] = {}
    for zone in zones:
        first.setdefault(tuple(m.astimezone(ZoneInfo(zone)).utcoffset() for m in moments), zone)
    return list(first.values())
