"""Next run of a 5-field crontab timetable (robfig/cron's standard parser, UTC).

retrieval.refresh.timetable drives the engine's own scheduler; /status shows its next
run as retrieving.nextRefresh, and the emulator runs the scheduled refresh too.
"""
import calendar
import datetime

_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]
_NAMES = [{}, {}, {}, {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m},
          {d.lower(): (i + 1) % 7 for i, d in enumerate(calendar.day_abbr)}]


class CronError(ValueError):
    pass


def _field(text, idx):
    lo, hi = _RANGES[idx]
    values = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_s = part.split("/", 1)
            if not step_s.isdigit() or int(step_s) == 0:
                raise CronError("bad step in %r" % text)
            step = int(step_s)
        if part in ("*", "?"):
            start, end = lo, hi
        else:
            bounds = part.split("-", 1)
            nums = []
            for b in bounds:
                b = _NAMES[idx].get(b.lower(), b)
                if isinstance(b, str) and not b.isdigit():
                    raise CronError("failed to parse int from %s" % b)
                nums.append(int(b))
            start = nums[0]
            end = nums[1] if len(nums) > 1 else (hi if step > 1 else start)
        if start < lo or end > hi or start > end:
            raise CronError("end of range (%d) above maximum (%d): %s" % (end, hi, part))
        values.update(range(start, end + 1, step))
    return values, text.startswith("*") or text.startswith("?")


def parse(timetable):
    fields = timetable.split()
    if len(fields) != 5:
        raise CronError("expected exactly 5 fields, found %d: [%s]" % (len(fields), timetable))
    return [_field(f, i) for i, f in enumerate(fields)]


def next_after(timetable, ts):
    """First scheduled time strictly after ts (epoch seconds), or None."""
    spec = parse(timetable)
    (mins, _), (hours, _), (doms, dom_star), (months, _), (dows, dow_star) = spec
    t = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).replace(second=0, microsecond=0)
    t += datetime.timedelta(minutes=1)
    day = t.date()
    for _ in range(366 * 5):
        dow = (day.weekday() + 1) % 7
        if dom_star or dow_star:
            day_ok = day.day in doms and dow in dows
        else:
            day_ok = day.day in doms or dow in dows
        if day.month in months and day_ok:
            for h in sorted(hours):
                for m in sorted(mins):
                    cand = datetime.datetime(day.year, day.month, day.day, h, m,
                                             tzinfo=datetime.timezone.utc)
                    if cand >= t:
                        return cand.timestamp()
        day += datetime.timedelta(days=1)
    return None
