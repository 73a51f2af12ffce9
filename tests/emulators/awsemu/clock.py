"""Two clocks: wall time (what AWS reports and what signatures are checked
against) and progress time (AWS seconds elapsed, driving state changes).

progress = time_scale * real seconds elapsed + seconds added by advance(), so
--time-scale 60 turns a 10-minute restore into 10 real seconds and a test can
jump straight to the end with POST /_emulator/advance."""
import datetime
import threading
import time


class Clock:
    def __init__(self, time_scale=1.0):
        if time_scale <= 0:
            raise ValueError("time scale must be positive")
        self._lock = threading.Lock()
        self._scale = float(time_scale)
        self._base_real = time.monotonic()
        self._base_progress = 0.0

    @staticmethod
    def now():
        return datetime.datetime.now(datetime.timezone.utc)

    def progress(self):
        with self._lock:
            return self._base_progress + (time.monotonic() - self._base_real) * self._scale

    @property
    def time_scale(self):
        return self._scale

    def set_time_scale(self, scale):
        if scale <= 0:
            raise ValueError("time scale must be positive")
        with self._lock:
            now = time.monotonic()
            self._base_progress += (now - self._base_real) * self._scale
            self._base_real = now
            self._scale = float(scale)

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError("cannot go back in time")
        with self._lock:
            self._base_progress += seconds
