"""The Huey instance every app's jobs run on (SqliteHuey by default, RedisHuey at scale)."""

from huey.contrib.djhuey import HUEY as huey

__all__ = ["huey"]
