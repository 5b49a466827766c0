from django.db import models


class RateCounter(models.Model):
    """One key's count in one fixed window, when the shared store is the database: counted by
    a single atomic UPDATE, so exact across processes (marketplace/ratelimit.py). With Redis
    the count is an INCR in the cache instead and this table stays empty."""

    key = models.CharField(max_length=200, unique=True)  # "<scope>:<subject>:<window>"
    count = models.PositiveIntegerField(default=0)
    expires = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key} {self.count}"
